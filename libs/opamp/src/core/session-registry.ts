import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, Metrics, TenantLabels } from '@ampora/platform';
import { AgentSession } from './agent-session';

/** What the protocol learnt about an agent, kept a while after its session ended. */
export interface SessionMemory {
  failedConfigHash?: string;
  reportedConfigHash?: string;
  pushedAt: Map<string, number>;
  endedAt: number;
}

/** Told when sessions of this instance open and close (session ownership leases follow them). */
export interface SessionLifecycleListener {
  opened(session: AgentSession): void;
  /** `replaced`: a newer session of the same agent on this instance took its place. */
  closed(session: AgentSession, info: { replaced: boolean }): void;
}

const MEMORY_TTL_MS = 10 * 60_000;
const MEMORY_MAX = 50_000;

/**
 * The live agent sessions of this instance, by agent id and by instance uid. It also remembers,
 * for a few minutes, what ended sessions learnt (a FAILED config, the last reported hash): an agent
 * that reconnects at once must not be sent a config it just rolled back from, even before the
 * coalesced state reached the database.
 */
@Injectable()
export class SessionRegistry {
  private readonly byAgent = new Map<string, AgentSession>();
  private readonly byUid = new Map<string, string>();
  private readonly memory = new Map<string, SessionMemory>();
  private readonly listeners: SessionLifecycleListener[] = [];

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly clock: Clock,
  ) {}

  get(agentId: string): AgentSession | undefined {
    return this.byAgent.get(agentId);
  }

  byInstanceUid(uid: Uint8Array): AgentSession | undefined {
    const agentId = this.byUid.get(Buffer.from(uid).toString('hex'));
    return agentId ? this.byAgent.get(agentId) : undefined;
  }

  onLifecycle(listener: SessionLifecycleListener): void {
    this.listeners.push(listener);
  }

  /** Adds a session; returns the session it replaces (same agent, older connection), if any. */
  add(session: AgentSession): AgentSession | undefined {
    const previous = this.byAgent.get(session.agentId);
    if (previous) this.forget(previous, false);
    this.byAgent.set(session.agentId, session);
    this.byUid.set(session.instanceUid.toString('hex'), session.agentId);
    if (!previous) this.gauge(session, 1);
    for (const l of this.listeners) {
      if (previous) l.closed(previous, { replaced: true });
      l.opened(session);
    }
    return previous;
  }

  /** Call when a session's uid changed. */
  reindex(session: AgentSession, oldUid: Buffer): void {
    this.byUid.delete(oldUid.toString('hex'));
    this.byUid.set(session.instanceUid.toString('hex'), session.agentId);
  }

  /** Removes the session if it is still the current one for its agent; true when removed. */
  remove(session: AgentSession): boolean {
    if (this.byAgent.get(session.agentId) !== session) return false;
    this.forget(session, true);
    for (const l of this.listeners) l.closed(session, { replaced: false });
    return true;
  }

  all(): IterableIterator<AgentSession> {
    return this.byAgent.values();
  }

  get size(): number {
    return this.byAgent.size;
  }

  /** What an ended session of this agent learnt, if it ended recently on this instance. */
  recall(agentId: string): SessionMemory | undefined {
    const m = this.memory.get(agentId);
    if (!m) return undefined;
    if (this.clock.nowMs() - m.endedAt > MEMORY_TTL_MS) {
      this.memory.delete(agentId);
      return undefined;
    }
    return m;
  }

  private remember(session: AgentSession): void {
    if (this.memory.size >= MEMORY_MAX) {
      // drop the oldest entries (insertion order)
      for (const key of [...this.memory.keys()].slice(0, MEMORY_MAX / 10)) this.memory.delete(key);
    }
    this.memory.delete(session.agentId);
    this.memory.set(session.agentId, {
      failedConfigHash: session.failedConfigHash,
      reportedConfigHash: session.reportedConfigHash,
      pushedAt: new Map(session.pushedAt),
      endedAt: this.clock.nowMs(),
    });
  }

  private forget(session: AgentSession, counted: boolean): void {
    this.remember(session);
    session.closed = true;
    this.byAgent.delete(session.agentId);
    const uidKey = session.instanceUid.toString('hex');
    if (this.byUid.get(uidKey) === session.agentId) this.byUid.delete(uidKey);
    if (counted) this.gauge(session, -1);
  }

  private gauge(session: AgentSession, delta: number): void {
    Metrics.change('ampora_opamp_active_sessions', delta, { tenant: TenantLabels.of(session.tenantId), instance: this.config.app.instanceId });
  }
}
