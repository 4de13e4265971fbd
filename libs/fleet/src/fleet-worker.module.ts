import { Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, createLogger, injectTraceContext, JobProducer } from '@ampora/platform';
import { FLEET_QUEUE, RECONCILE_SCHEDULER_ID, RETENTION_SCHEDULER_ID } from './fleet.jobs';
import { FleetModule } from './fleet.module';
import { FleetProcessor } from './fleet.processor';

/**
 * Registers the periodic reconcile of dynamic groups (every AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS)
 * and the agent retention sweep (AMPORA_AGENT_RETENTION_DAYS, off by default).
 */
@Injectable()
export class FleetSchedules implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Fleet.FleetSchedules');

  constructor(
    private readonly producer: JobProducer,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const everyMs = this.config.fleet.reconcileIntervalSeconds * 1000;
    await this.producer
      .queue(FLEET_QUEUE.name)
      .upsertJobScheduler(RECONCILE_SCHEDULER_ID, { every: everyMs }, { name: FLEET_QUEUE.jobs.reconcileGroups, data: { trace: injectTraceContext(), payload: {} }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } });
    this.log.debug('Dynamic groups are reconciled every {EveryMs} ms', { EveryMs: everyMs });
    await this.scheduleRetention();
  }

  /**
   * The retention sweep runs while AMPORA_AGENT_RETENTION_DAYS > 0. Set back to 0, nothing is
   * registered; a scheduler left from an earlier setting keeps firing and the sweep does nothing.
   */
  private async scheduleRetention(): Promise<void> {
    const queue = this.producer.queue(FLEET_QUEUE.name);
    const days = this.config.fleet.agentRetentionDays;
    if (days <= 0) return;
    const everyMs = this.config.fleet.agentRetentionIntervalSeconds * 1000;
    await queue.upsertJobScheduler(RETENTION_SCHEDULER_ID, { every: everyMs }, { name: FLEET_QUEUE.jobs.forgetDeparted, data: { trace: injectTraceContext(), payload: {} }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } });
    this.log.info('Agents disconnected for more than {Days} days are forgotten (checked every {EveryMs} ms)', { Days: days, EveryMs: everyMs });
  }
}

/** The fleet's background processors (worker process only). */
@Module({ imports: [FleetModule], providers: [FleetProcessor, FleetSchedules] })
export class FleetWorkerModule {}
