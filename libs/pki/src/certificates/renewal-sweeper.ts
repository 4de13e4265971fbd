import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { create } from '@bufbuild/protobuf';
import { Clock, createLogger, TimerHandle } from '@ampora/platform';
import { AGENT_DISPATCHER, AgentCap, AgentDispatcher, hasCapability, pb, SessionRegistry } from '@ampora/opamp';
import { AgentIdentityService } from './agent-identity.service';

const HOUR_MS = 3600_000;

/**
 * Agents that stay connected for months never reach "the next connection": every hour, this instance
 * pushes a renewed certificate to its own sessions whose certificate entered the renewal threshold
 * (once: a renewal already issued and not taken yet is not issued again by the sweep).
 */
@Injectable()
export class RenewalSweeper implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Pki.Certificates.RenewalSweeper');
  private timer?: TimerHandle;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly sessions: SessionRegistry,
    private readonly identities: AgentIdentityService,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = this.clock.setInterval(() => void this.sweep().catch((error: unknown) => this.log.error('Certificate renewal sweep failed', {}, error)), HOUR_MS).unref();
  }

  onModuleDestroy(): void {
    this.timer?.cancel();
  }

  /** Pushes renewals to the live sessions whose certificate is due at `at`; returns how many. */
  async sweep(at = this.clock.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let pushed = 0;
    try {
      for (const session of [...this.sessions.all()]) {
        if (session.closed || session.credential.kind !== 'certificate' || !hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) continue;
        const ctx = { agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities, credential: session.credential, justEnrolled: false, transport: session.transport, mtls: session.mtls };
        try {
          const offer = await this.identities.renewalFor(ctx, at, { whilePending: 'skip' });
          if (!offer) continue;
          const outcome = await this.dispatcher.pushConnectionSettings({ agentId: session.agentId, tenantId: session.tenantId }, create(pb.ConnectionSettingsOffersSchema, offer));
          this.log.info('Pushed a renewed certificate to agent {AgentId}: {Outcome}', { AgentId: session.agentId, Outcome: outcome });
          pushed++;
        } catch (error) {
          this.log.warn('Could not renew the certificate of agent {AgentId}; the next sweep or connection retries', { AgentId: session.agentId }, error);
        }
      }
    } finally {
      this.running = false;
    }
    return pushed;
  }
}
