import { Processor } from '@nestjs/bullmq';
import { JobProcessor, JobRegistry } from '@ampora/platform';
import { FEDERATION_QUEUE, FederatedRolloutTickJob } from '../federation.jobs';
import { FederatedRolloutsService } from './federated-rollouts.service';

/** The worker's handler of federated rollout ticks: thin, the service decides. */
@Processor(FEDERATION_QUEUE.name, { concurrency: 4 })
export class FederatedRolloutsProcessor extends JobProcessor<typeof FEDERATION_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly rollouts: FederatedRolloutsService,
  ) {
    super(registry, FEDERATION_QUEUE);
  }

  protected handlers() {
    return {
      'federation.rollout-tick': async (payload: FederatedRolloutTickJob) => ({ outcome: await this.rollouts.tick(payload.federatedRolloutId) }),
    };
  }
}
