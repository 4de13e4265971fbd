import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Metrics, TenantLabels } from '@ampora/platform';
import { AgentSession } from './agent-session';

/** The live agent sessions of this instance, by agent id and by instance uid. */
@Injectable()
export class SessionRegistry {
  private readonly byAgent = new Map<string, AgentSession>();
  private readonly byUid = new Map<string, string>();

  constructor(@Inject(AMPORA_CONFIG) private readonly config: AmporaConfig) {}

  get(agentId: string): AgentSession | undefined {
    return this.byAgent.get(agentId);
  }

  byInstanceUid(uid: Uint8Array): AgentSession | undefined {
    const agentId = this.byUid.get(Buffer.from(uid).toString('hex'));
    return agentId ? this.byAgent.get(agentId) : undefined;
  }

  /** Adds a session; returns the session it replaces (same agent, older connection), if any. */
  add(session: AgentSession): AgentSession | undefined {
    const previous = this.byAgent.get(session.agentId);
    if (previous) this.forget(previous, false);
    this.byAgent.set(session.agentId, session);
    this.byUid.set(session.instanceUid.toString('hex'), session.agentId);
    if (!previous) this.gauge(session, 1);
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
    return true;
  }

  all(): IterableIterator<AgentSession> {
    return this.byAgent.values();
  }

  get size(): number {
    return this.byAgent.size;
  }

  private forget(session: AgentSession, counted: boolean): void {
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
