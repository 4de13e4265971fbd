import { Processor } from '@nestjs/bullmq';
import { JobProcessor, JobRegistry } from '@ampora/platform';
import { GITOPS_QUEUE, SweepJob } from './gitops.jobs';
import { RunRetentionService } from './run-retention.service';
import { SweepService } from './sweep.service';

/** The worker's handlers of the gitops-sync queue: thin, they call the services. */
@Processor(GITOPS_QUEUE.name, { concurrency: 4 })
export class GitopsProcessor extends JobProcessor<typeof GITOPS_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly sweeps: SweepService,
    private readonly retention: RunRetentionService,
  ) {
    super(registry, GITOPS_QUEUE);
  }

  protected handlers() {
    return {
      'gitops-sync.sweep': async (payload: SweepJob) => {
        const result = await this.sweeps.sweep(payload.sourceId, payload.trigger);
        return { outcome: result.outcome, tipSha: result.tipSha, runId: result.run?.id ?? null };
      },
      'gitops-sync.prune-runs': async () => this.retention.prune(),
    };
  }
}
