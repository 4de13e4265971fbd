import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger } from '@ampora/platform';
import { GitSyncRunRepository } from './git-sync-run.repository';

const DAY_MS = 24 * 3600 * 1000;

/** Sync runs are history for AMPORA_GITOPS_RUN_RETENTION_DAYS (30); the worker prunes older ones. */
@Injectable()
export class RunRetentionService {
  private readonly log = createLogger('Ampora.Gitops.RunRetentionService');

  constructor(
    private readonly runs: GitSyncRunRepository,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async prune(): Promise<{ deleted: number; cutoff: string }> {
    const cutoff = new Date(this.clock.nowMs() - this.config.gitops.runRetentionDays * DAY_MS);
    const deleted = await this.runs.deleteStartedBefore(cutoff);
    if (deleted > 0) this.log.info('Pruned {Count} GitOps sync runs started before {Cutoff}', { Count: deleted, Cutoff: cutoff.toISOString() });
    return { deleted, cutoff: cutoff.toISOString() };
  }
}
