import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OpampCore } from './core/opamp-core.service';
import { SessionRegistry } from './core/session-registry';
import { AGENT_DISPATCHER } from './dispatch/agent-dispatcher';
import { BackplaneDispatcher } from './dispatch/backplane-dispatcher';
import { LocalDelivery } from './dispatch/local-delivery';
import { AgentSessionOwnershipEntity } from './ownership/entities/agent-session-ownership.entity';
import { SessionOwnershipRepository } from './ownership/session-ownership.repository';

/**
 * The protocol core, the sessions of this instance and the dispatcher (every process: the worker's
 * dispatcher forwards to the instance that holds the agent). The agent authenticator and state sink
 * ports are provided by another domain (fleet) anywhere in the application.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AgentSessionOwnershipEntity])],
  providers: [
    SessionRegistry,
    OpampCore,
    LocalDelivery,
    SessionOwnershipRepository,
    BackplaneDispatcher,
    { provide: AGENT_DISPATCHER, useExisting: BackplaneDispatcher },
  ],
  exports: [SessionRegistry, OpampCore, LocalDelivery, SessionOwnershipRepository, AGENT_DISPATCHER],
})
export class OpampModule {}
