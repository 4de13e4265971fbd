import { Injectable } from '@nestjs/common';
import { Clock } from '@ampora/platform';
import { OpampPorts } from '../opamp-ports';
import type { DisconnectInfo } from '../ports';
import type { AgentSession } from './agent-session';
import { SessionRegistry } from './session-registry';

/** How sessions of this instance end, and what the state sink is told when they do. */
@Injectable()
export class SessionEnder {
  constructor(
    private readonly registry: SessionRegistry,
    private readonly ports: OpampPorts,
    private readonly clock: Clock,
  ) {}

  /** The session ended (socket closed, AgentDisconnect, idle HTTP agent). */
  end(session: AgentSession, at: Date, info?: DisconnectInfo): void {
    if (this.registry.remove(session)) this.ports.required('stateSink').disconnected(session, at, info ?? (session.superseded ? { superseded: true } : undefined));
  }

  /** Ends every session of this instance (shutdown): their agents are recorded as disconnected. */
  endAll(): void {
    const at = this.clock.now();
    for (const s of [...this.registry.all()]) this.end(s, at);
  }

  /** Closes the agent's session on this instance (WebSocket closed; HTTP forgotten). */
  disconnect(session: AgentSession, reason: string): void {
    session.connection?.close?.(4001, reason);
    this.end(session, this.clock.now());
  }

  /**
   * A newer session of this agent holds its lease on another instance: this one is stale. Nothing
   * more is sent on it, its socket is closed, and the agent is not recorded as disconnected.
   */
  supersede(session: AgentSession, reason: string): void {
    session.superseded = true;
    session.connection?.close?.(4002, reason);
    this.end(session, this.clock.now(), { superseded: true });
  }
}
