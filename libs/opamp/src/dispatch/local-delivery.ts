import { Injectable } from '@nestjs/common';
import { Metrics, TenantLabels } from '@ampora/platform';
import { AgentSession } from '../core/agent-session';
import { OpampCore } from '../core/opamp-core.service';
import { AgentCap, hasCapability } from '../protocol/capabilities';
import { DispatchOutcome } from './agent-dispatcher';
import { DispatchCommand, desiredFromCommand, ImmediateCommand, offerFromCommand } from './dispatch-envelope';

/** Carries out a dispatch command on a session of this instance (pushed here, or forwarded to it). */
@Injectable()
export class LocalDelivery {
  constructor(private readonly core: OpampCore) {}

  /** A promise only for a packages push (the offer is read from the fleet). */
  deliver(session: AgentSession, command: ImmediateCommand): DispatchOutcome;
  deliver(session: AgentSession, command: DispatchCommand): DispatchOutcome | Promise<DispatchOutcome>;
  deliver(session: AgentSession, command: DispatchCommand): DispatchOutcome | Promise<DispatchOutcome> {
    switch (command.kind) {
      case 'remote_config':
        if (!hasCapability(session.capabilities, AgentCap.AcceptsRemoteConfig)) return this.capMismatch(session);
        return this.core.pushRemoteConfig(session, desiredFromCommand(command), command.force, typeof command.since === 'number' ? command.since : undefined);
      case 'connection_settings':
        if (!hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) return this.capMismatch(session);
        return this.core.pushConnectionSettings(session, offerFromCommand(command));
      case 'packages':
        if (!hasCapability(session.capabilities, AgentCap.AcceptsPackages)) return this.capMismatch(session);
        return this.core.pushPackages(session);
      case 'disconnect':
        this.core.disconnect(session, command.reason);
        return 'delivered';
    }
  }

  private capMismatch(session: AgentSession): DispatchOutcome {
    Metrics.add('ampora_opamp_frames_rejected_total', 1, { tenant: TenantLabels.of(session.tenantId), reason: 'cap_mismatch' });
    return 'cap_mismatch';
  }
}
