import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { createLogger, isEvent, LiveBus } from '@ampora/platform';
import { AgentSession, OpampCore, SessionRegistry } from '@ampora/opamp';
import { closeSessions } from './session-closing';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AGENT_FORGOTTEN_REASON } from './agent-forget.service';

/**
 * Forgotten agents lose their live sessions on every instance: the `agent.forgotten` event goes over
 * the live-update bus, and each instance closes its own sessions of those agents (WebSocket close
 * 4001). Their credentials were revoked in the same transaction, so a reconnect is refused.
 */
@Injectable()
export class ForgottenAgentSessions implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Fleet.Agents.ForgottenAgentSessions');
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly sessions: SessionRegistry,
    private readonly core: OpampCore,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe(
      (event) => {
        if (!isEvent<FleetEvent, typeof FleetEvents.AgentsForgotten>(event, FleetEvents.AgentsForgotten)) return;
        const ids: unknown = event.payload?.agentIds;
        if (Array.isArray(ids)) this.close(event.tenantId, new Set(ids.filter((x): x is string => typeof x === 'string')));
      },
      { name: 'fleet.forgotten-agent-sessions', filter: (event) => event.type === FleetEvents.AgentsForgotten },
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Closes this instance's sessions of these agents (of that tenant); returns how many. */
  close(tenantId: string, agentIds: Set<string>): number {
    const mine = [...agentIds].map((id) => this.sessions.get(id)).filter((s): s is AgentSession => s !== undefined);
    return closeSessions(mine, this.core, this.log, AGENT_FORGOTTEN_REASON, (s) => s.tenantId === tenantId);
  }
}
