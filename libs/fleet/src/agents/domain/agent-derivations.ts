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
  if (!agent.lastSeenAt || now - agent.lastSeenAt.getTime() > windowSeconds * 1000) return 'stale';
  return 'connected';
}
