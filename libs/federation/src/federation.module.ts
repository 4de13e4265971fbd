import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { PkiModule } from '@ampora/pki';
import { bindFleetPorts, FleetModule, FleetPortsModule } from '@ampora/fleet';
import { RolloutsModule } from '@ampora/rollouts';
import { PeerClient } from './client/peer-client';
import { FederatedRolloutEntity } from './entities/federated-rollout.entity';
import { HandoverEntity } from './entities/handover.entity';
import { HandoverService } from './handover/handover.service';
import { FederationCredentialEntity } from './entities/federation-credential.entity';
import { PeerEntity } from './entities/peer.entity';
import { FederatedFleetView } from './federated-fleet.service';
import { FederationIdentityService } from './federation-identity.service';
import { FEDERATION_QUEUE } from './federation.jobs';
import { FederationStore } from './federation.store';
import { PeersService } from './peers.service';
import { PingService } from './ping.service';
import { FederatedRolloutsService } from './rollouts/federated-rollouts.service';
import { LocalLegs } from './rollouts/local-legs';

/**
 * Federation (spec §7): this deployment's federation certificates, the tenants' peers (four-eyes),
 * the outbound client, the federated fleet view (bound to fleet's `federatedAgents` port) and
 * federated rollouts (legs run through rollouts' public face). Imported by FederationApiModule
 * (server) and FederationWorkerModule.
 */
@Module({
  imports: [TypeOrmModule.forFeature([FederationCredentialEntity, PeerEntity, FederatedRolloutEntity, HandoverEntity]), QueueModule.forFeature(FEDERATION_QUEUE), PkiModule, FleetModule, FleetPortsModule, RolloutsModule],
  providers: [FederationStore, FederationIdentityService, PeersService, PeerClient, PingService, FederatedFleetView, LocalLegs, FederatedRolloutsService, HandoverService, bindFleetPorts({ federatedAgents: FederatedFleetView })],
  exports: [FederationIdentityService, PeersService, PeerClient, PingService, LocalLegs, FederatedRolloutsService, HandoverService],
})
export class FederationModule {}
