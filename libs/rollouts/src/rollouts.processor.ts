import { Processor } from '@nestjs/bullmq';
import { JobProcessor, JobRegistry } from '@ampora/platform';
import { RolloutEngine } from './rollout-engine.service';
import { ROLLOUTS_QUEUE, RolloutTickJob } from './rollouts.jobs';

/** The worker's handler of rollout ticks: thin, the engine decides. Several rollouts tick at once. */
@Processor(ROLLOUTS_QUEUE.name, { concurrency: 8 })
export class RolloutsProcessor extends JobProcessor<typeof ROLLOUTS_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly engine: RolloutEngine,
  ) {
    super(registry, ROLLOUTS_QUEUE);
  }

  protected handlers() {
    return {
      'rollouts.tick': async (payload: RolloutTickJob) => ({ outcome: await this.engine.drive(payload.rolloutId, payload.reason) }),
    };
  }
}
