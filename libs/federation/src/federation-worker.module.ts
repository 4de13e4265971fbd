import { Module } from '@nestjs/common';
import { FederationModule } from './federation.module';
import { FederatedRolloutsProcessor } from './rollouts/federated-rollouts.processor';

/** Federation in the worker: the coordinator's ticks of federated rollouts. */
@Module({ imports: [FederationModule], providers: [FederatedRolloutsProcessor] })
export class FederationWorkerModule {}
