import { Processor } from '@nestjs/bullmq';
import { JobProcessor, JobRegistry } from '@ampora/platform';
import { AUDIT_ARCHIVAL_QUEUE } from '../../governance.jobs';
import { AuditRetentionService } from './audit-retention.service';

/** The worker's handler of the `audit-archival` queue: thin, it calls the sweep. */
@Processor(AUDIT_ARCHIVAL_QUEUE.name)
export class AuditArchivalProcessor extends JobProcessor<typeof AUDIT_ARCHIVAL_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly retention: AuditRetentionService,
  ) {
    super(registry, AUDIT_ARCHIVAL_QUEUE);
  }

  protected handlers() {
    return {
      'audit-archival.sweep': async () => this.retention.sweep(),
    };
  }
}
