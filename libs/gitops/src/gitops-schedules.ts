import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, injectTraceContext, JobProducer } from '@ampora/platform';
import { GitSourceRepository } from './git-source.repository';
import { GITOPS_QUEUE, PRUNE_SCHEDULER_ID } from './gitops.jobs';
import { SweepScheduler } from './sweep-scheduler';

/**
 * At worker start: one job scheduler per Active source (sources changed while no worker ran are
 * caught up; strays of deleted or paused sources are removed) and the sync-run pruning schedule.
 */
@Injectable()
export class GitopsSchedules implements OnApplicationBootstrap {
  constructor(
    private readonly sources: GitSourceRepository,
    private readonly scheduler: SweepScheduler,
    private readonly producer: JobProducer,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.scheduler.reconcile(await this.sources.active());
    await this.producer
      .queue(GITOPS_QUEUE.name)
      .upsertJobScheduler(PRUNE_SCHEDULER_ID, { every: this.config.gitops.pruneIntervalSeconds * 1000 }, { name: GITOPS_QUEUE.jobs.pruneRuns, data: { trace: injectTraceContext(), payload: {} }, opts: { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } } });
  }
}
