import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Metrics, TenantLabels } from '@ampora/platform';
import { retentionWindows, SweepTally } from '../../domain/audit-retention';
import { AuditArchiveRepository, TenantCount } from './audit-archive.repository';

export interface SweepResult {
  archived: number;
  purged: number;
  archivedByTenant: Record<string, number>;
  purgedByTenant: Record<string, number>;
}

/**
 * The audit retention sweep (the worker's `audit-archival.sweep` job, decision 0260): hot rows past
 * AMPORA_AUDIT_HOT_DAYS move to the archive batch by batch, then archive rows past
 * AMPORA_AUDIT_ARCHIVE_DAYS are purged. Each batch is one transaction; several sweepers at once take
 * disjoint batches. Time comes from the injected Clock.
 */
@Injectable()
export class AuditRetentionService {
  private readonly log = createLogger('Ampora.Governance.Audit.Retention');

  constructor(
    private readonly archive: AuditArchiveRepository,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async sweep(): Promise<SweepResult> {
    const { hotDays, archiveDays, batchSize } = this.config.audit;
    const now = this.clock.now();
    const windows = retentionWindows(now, hotDays, archiveDays);
    const tally = new SweepTally();

    for (;;) {
      const batch = await this.archive.moveBatch(windows.archiveBefore, batchSize, now);
      this.count('ampora_audit_archived_total', batch.archived);
      tally.add('archived', batch.archived);
      if (batch.moved < batchSize) break;
    }
    for (;;) {
      const purged = await this.archive.purgeBatch(windows.purgeBefore, batchSize);
      this.count('ampora_audit_purged_total', purged);
      if (tally.add('purged', purged) < batchSize) break;
    }

    const result: SweepResult = {
      archived: tally.total('archived'),
      purged: tally.total('purged'),
      archivedByTenant: Object.fromEntries(tally.archived),
      purgedByTenant: Object.fromEntries(tally.purged),
    };
    if (result.archived || result.purged) {
      this.log.info('Audit retention archived {Archived} rows older than {ArchiveBefore} and purged {Purged} older than {PurgeBefore}', {
        Archived: result.archived,
        ArchiveBefore: windows.archiveBefore.toISOString(),
        Purged: result.purged,
        PurgeBefore: windows.purgeBefore.toISOString(),
      });
    }
    return result;
  }

  private count(metric: 'ampora_audit_archived_total' | 'ampora_audit_purged_total', counts: TenantCount[]): void {
    for (const { tenantId, count } of counts) Metrics.add(metric, count, { tenant: TenantLabels.of(tenantId) });
  }
}
