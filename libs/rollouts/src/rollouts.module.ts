import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { OpampModule } from '@ampora/opamp';
import { FleetModule } from '@ampora/fleet';
import { RolloutDefaultsEntity } from './entities/rollout-defaults.entity';
import { RolloutTargetEntity } from './entities/rollout-target.entity';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { RolloutTargetRepository } from './persistence/rollout-target.repository';
import { RolloutDefaultsService } from './rollout-defaults.service';
import { RolloutDelivery } from './rollout-delivery.service';
import { PackageRolloutDelivery } from './package-rollout-delivery.service';
import { RolloutEngine } from './rollout-engine.service';
import { RolloutGateCheck } from './rollout-gates.service';
import { RolloutObserver } from './rollout-observer.service';
import { RolloutProgressPublisher } from './rollout-progress.publisher';
import { RolloutTransitions } from './rollout-transitions';
import { ROLLOUTS_QUEUE } from './rollouts.jobs';
import { RolloutsService } from './rollouts.service';

/**
 * Rollouts: their definitions and state machine (RolloutsService) and the engine that runs them.
 * Fleet's agents, groups, versions and assignments are reached through fleet's RolloutSupportService
 * only (decision 0190); rollouts' SQL names its own tables.
 */
@Module({
  imports: [TypeOrmModule.forFeature([RolloutEntity, RolloutTargetEntity, RolloutDefaultsEntity]), QueueModule.forFeature(ROLLOUTS_QUEUE), OpampModule, FleetModule],
  providers: [
    RolloutRepository,
    RolloutTargetRepository,
    RolloutTargetQueries,
    RolloutTransitions,
    RolloutsService,
    RolloutProgressPublisher,
    RolloutGateCheck,
    RolloutDelivery,
    PackageRolloutDelivery,
    RolloutObserver,
    RolloutEngine,
    RolloutDefaultsService,
  ],
  exports: [RolloutsService, RolloutDefaultsService, RolloutEngine, RolloutObserver, RolloutRepository, RolloutTargetQueries, RolloutTransitions],
})
export class RolloutsModule {}
