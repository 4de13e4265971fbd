import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, TimerHandle } from '@ampora/platform';
import { AgentIdentityService } from './agent-identity.service';

/**
 * Notices certificate offers the agent never used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS (decision
 * 0121): every quarter of that time (at most every 30 s) each server instance marks the overdue ones;
 * the UPDATE gives each row to one instance, which logs and counts it.
 */
@Injectable()
export class OfferWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Pki.Certificates.OfferWatcher');
  private timer?: TimerHandle;

  constructor(
    private readonly clock: Clock,
    private readonly identities: AgentIdentityService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onApplicationBootstrap(): void {
    const every = Math.min(30_000, Math.max(1000, (this.config.pki.offerTimeoutSeconds * 1000) / 4));
    this.timer = this.clock.setInterval(() => void this.identities.noticeUnusableOffers().catch((error: unknown) => this.log.error('Looking for unusable certificate offers failed', {}, error)), every).unref();
  }

  onModuleDestroy(): void {
    this.timer?.cancel();
  }
}
