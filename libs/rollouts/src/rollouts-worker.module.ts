import { Module } from '@nestjs/common';
import { RolloutEventsListener } from './rollout-events.listener';
import { RolloutsModule } from './rollouts.module';
import { RolloutsProcessor } from './rollouts.processor';

/** The rollout engine's processors (worker process only): ticks and event-driven gates. */
@Module({ imports: [RolloutsModule], providers: [RolloutsProcessor, RolloutEventsListener] })
export class RolloutsWorkerModule {}
