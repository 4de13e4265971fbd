/** What the inventory derives from an agent's description (pure). */
export interface Derived {
  displayName: string;
  agentType: string;
  agentVersion: string;
}

function text(v: unknown, max: number): string {
  return typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

export const AgentDerivations = {
  /**
   * Display name: `host.name`, else `service.instance.id`, else the service name. Agent type is
   * `service.name` (for a Collector `io.opentelemetry.collector`), version `service.version`.
   */
  fromDescription(identifying: Record<string, unknown>, nonIdentifying: Record<string, unknown>): Derived {
    const get = (k: string) => identifying[k] ?? nonIdentifying[k];
    return {
      displayName: text(get('host.name'), 255) || text(get('service.instance.id'), 255) || text(get('service.name'), 255),
      agentType: text(get('service.name'), 255),
      agentVersion: text(get('service.version'), 100),
    };
  },
};

export type AgentStatus = 'connected' | 'stale' | 'disconnected';

/**
 * Connected while a session is open and frames keep coming; stale when a session is open but no frame
 * arrived for the heartbeat window; disconnected when no session is open.
 */
export function agentStatus(agent: { connected: boolean; lastSeenAt: Date | null }, now: number, windowSeconds: number): AgentStatus {
  if (!agent.connected) return 'disconnected';
  if (!agent.lastSeenAt || agent.lastSeenAt.getTime() < staleCutoff(now, windowSeconds)) return 'stale';
  return 'connected';
}

/** A connected agent whose last frame is older than this instant (ms since the epoch) is stale. */
export function staleCutoff(now: number, windowSeconds: number): number {
  return now - windowSeconds * 1000;
}

/**
 * What an agent row satisfies exactly when `agentStatus` gives `status` at `now`: the `?status=`
 * filter of the agent list hands this to the query, which only translates it (one rule, two readers).
 */
export type AgentStatusCondition =
  | { connected: false }
  | { connected: true; lastSeen: 'atOrAfter'; cutoff: Date }
  | { connected: true; lastSeen: 'beforeOrNever'; cutoff: Date };

export function agentStatusCondition(status: AgentStatus, now: number, windowSeconds: number): AgentStatusCondition {
  const cutoff = new Date(staleCutoff(now, windowSeconds));
  if (status === 'disconnected') return { connected: false };
  return status === 'connected' ? { connected: true, lastSeen: 'atOrAfter', cutoff } : { connected: true, lastSeen: 'beforeOrNever', cutoff };
}

/** Whether an agent satisfies a status condition (what the query does, in memory). */
export function satisfiesStatusCondition(agent: { connected: boolean; lastSeenAt: Date | null }, c: AgentStatusCondition): boolean {
  if (agent.connected !== c.connected) return false;
  if (!c.connected) return true;
  const seen = agent.lastSeenAt?.getTime();
  return c.lastSeen === 'atOrAfter' ? seen !== undefined && seen >= c.cutoff.getTime() : seen === undefined || seen < c.cutoff.getTime();
}
