import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { OpampModule } from '@ampora/opamp';
import { FleetModule } from '@ampora/fleet';
import { RolloutDefaultsEntity } from './entities/rollout-defaults.entity';
import { RolloutTargetEntity } from './entities/rollout-target.entity';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutDefaultsService } from './rollout-defaults.service';
import { RolloutEngine } from './rollout-engine.service';
import { RolloutRepository } from './rollout.repository';
import { RolloutTransitions } from './rollout-transitions';
import { ROLLOUTS_QUEUE } from './rollouts.jobs';
import { RolloutsService } from './rollouts.service';

/** Rollouts: their definitions and state machine (RolloutsService) and the engine that runs them. */
@Module({
  imports: [TypeOrmModule.forFeature([RolloutEntity, RolloutTargetEntity, RolloutDefaultsEntity]), QueueModule.forFeature(ROLLOUTS_QUEUE), OpampModule, FleetModule],
  providers: [RolloutRepository, RolloutTransitions, RolloutsService, RolloutEngine, RolloutDefaultsService],
  exports: [RolloutsService, RolloutDefaultsService, RolloutEngine, RolloutRepository, RolloutTransitions],
})
export class RolloutsModule {}
