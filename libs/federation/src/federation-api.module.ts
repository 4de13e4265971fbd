import { Module } from '@nestjs/common';
import { FleetModule } from '@ampora/fleet';
import { OpampApiModule } from '@ampora/opamp';
import { FederationController } from './federation.controller';
import { FederationModule } from './federation.module';
import { HandoverController } from './handover/handover.controller';
import { FederationListener } from './listener/federation-listener';
import { InboundHandover } from './listener/inbound-handover';
import { InboundLegs } from './listener/inbound-legs';
import { InboundReads } from './listener/inbound-reads';
import { FederatedRolloutsController } from './rollouts/federated-rollouts.controller';

/** Federation's REST surface and its peer listener (server process only; the listener names the OpAMP TLS listener to handed-over agents). */
@Module({
  imports: [FederationModule, FleetModule, OpampApiModule],
  controllers: [FederationController, FederatedRolloutsController, HandoverController],
  providers: [InboundReads, InboundLegs, InboundHandover, FederationListener],
  exports: [FederationListener],
})
export class FederationApiModule {}
