import { Injectable } from '@nestjs/common';
import { Metrics, SpanKind, TenantLabels, withSpan } from '@ampora/platform';
import type { ConnectionSettingsOffers } from '../generated/opamp_pb';
import { OpampCore } from '../core/opamp-core.service';
import type { DesiredConfig } from '../ports';
import { AgentCap, hasCapability } from '../protocol/capabilities';
import { AgentDispatcher, DispatchOutcome, DispatchTarget } from './agent-dispatcher';

/** Delivers to the sessions of this instance. */
@Injectable()
export class LocalDispatcher implements AgentDispatcher {
  constructor(private readonly core: OpampCore) {}

  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options: { force?: boolean } = {}): Promise<DispatchOutcome> {
    return this.dispatch(target, 'remote_config', (session) => {
      if (!hasCapability(session.capabilities, AgentCap.AcceptsRemoteConfig)) return 'cap_mismatch';
      return this.core.pushRemoteConfig(session, config, options.force ?? false);
    });
  }

  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome> {
    return this.dispatch(target, 'connection_settings', (session) => {
      if (!hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) return 'cap_mismatch';
      return this.core.pushConnectionSettings(session, offer);
    });
  }

  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome> {
    return this.dispatch(target, 'disconnect', (session) => {
      this.core.disconnect(session, reason);
      return 'delivered';
    });
  }

  /** Runs a push against the local session, counting and tracing it. */
  private dispatch(target: DispatchTarget, what: string, deliver: (session: NonNullable<ReturnType<OpampCore['registry']['get']>>) => DispatchOutcome): Promise<DispatchOutcome> {
    const tenant = TenantLabels.of(target.tenantId);
    return withSpan('opamp.dispatch', { kind: SpanKind.INTERNAL, attributes: { 'agent.id': target.agentId, 'dispatch.kind': what, 'dispatch.target_instance': 'local' } }, async (span) => {
      const session = this.core.registry.get(target.agentId);
      let outcome: DispatchOutcome;
      if (!session || session.closed) {
        outcome = 'no_session';
        Metrics.add('ampora_dispatch_no_session_total', 1, { tenant });
      } else {
        outcome = deliver(session);
        if (outcome === 'cap_mismatch') Metrics.add('ampora_opamp_frames_rejected_total', 1, { tenant, reason: 'cap_mismatch' });
        else Metrics.add('ampora_dispatch_local_total', 1, { tenant });
      }
      span.setAttribute('dispatch.outcome', outcome);
      return outcome;
    });
  }
}
