import { Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, createLogger, injectTraceContext, JobProducer, QueueModule } from '@ampora/platform';
import { AuditArchivalProcessor } from './audit/retention/audit-archival.processor';
import { AuditArchiveRepository } from './audit/retention/audit-archive.repository';
import { AuditRetentionService } from './audit/retention/audit-retention.service';
import { AUDIT_ARCHIVAL_QUEUE, AUDIT_SWEEP_SCHEDULER_ID } from './governance.jobs';

/** Registers the audit retention sweep as a BullMQ job scheduler: one run per tick, however many workers. */
@Injectable()
export class GovernanceSchedules implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Governance.Schedules');

  constructor(
    private readonly producer: JobProducer,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { sweepMinutes, hotDays, archiveDays } = this.config.audit;
    const everyMs = sweepMinutes * 60_000;
    await this.producer
      .queue(AUDIT_ARCHIVAL_QUEUE.name)
      .upsertJobScheduler(AUDIT_SWEEP_SCHEDULER_ID, { every: everyMs }, { name: AUDIT_ARCHIVAL_QUEUE.jobs.sweep, data: { trace: injectTraceContext(), payload: {} }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } });
    this.log.info('Audit events move to the archive after {HotDays} days and are purged after {ArchiveDays} (checked every {EveryMs} ms)', { HotDays: hotDays, ArchiveDays: archiveDays, EveryMs: everyMs });
  }
}

/** Governance's background work (worker process only): the audit retention sweep. */
@Module({
  imports: [QueueModule.forFeature(AUDIT_ARCHIVAL_QUEUE)],
  providers: [AuditArchiveRepository, AuditRetentionService, AuditArchivalProcessor, GovernanceSchedules],
  exports: [AuditRetentionService],
})
export class GovernanceWorkerModule {}
