import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OpampCore } from './core/opamp-core.service';
import { SessionRegistry } from './core/session-registry';
import { AGENT_DISPATCHER } from './dispatch/agent-dispatcher';
import { BackplaneDispatcher } from './dispatch/backplane-dispatcher';
import { LocalDelivery } from './dispatch/local-delivery';
import { AgentSessionOwnershipEntity } from './ownership/entities/agent-session-ownership.entity';
import { SessionOwnershipRepository } from './ownership/session-ownership.repository';
import { OpampPortsModule } from './opamp-ports';

/**
 * The protocol core, the sessions of this instance and the dispatcher (every process: the worker's
 * dispatcher forwards to the instance that holds the agent). The ports (agent authenticator, state
 * sink, certificates) are bound by the modules that implement them (fleet, pki) with bindOpampPorts.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AgentSessionOwnershipEntity]), OpampPortsModule],
  providers: [
    SessionRegistry,
    OpampCore,
    LocalDelivery,
    SessionOwnershipRepository,
    BackplaneDispatcher,
    { provide: AGENT_DISPATCHER, useExisting: BackplaneDispatcher },
  ],
  exports: [OpampPortsModule, SessionRegistry, OpampCore, LocalDelivery, SessionOwnershipRepository, AGENT_DISPATCHER],
})
export class OpampModule {}
