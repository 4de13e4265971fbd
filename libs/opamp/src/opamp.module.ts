import { Module } from '@nestjs/common';
import { OpampCore } from './core/opamp-core.service';
import { SessionRegistry } from './core/session-registry';
import { AGENT_DISPATCHER } from './dispatch/agent-dispatcher';
import { LocalDispatcher } from './dispatch/local-dispatcher';

/**
 * The protocol core, the sessions of this instance and the dispatcher. The agent authenticator and
 * state sink ports are provided by another domain (fleet) anywhere in the application.
 */
@Module({
  providers: [SessionRegistry, OpampCore, LocalDispatcher, { provide: AGENT_DISPATCHER, useExisting: LocalDispatcher }],
  exports: [SessionRegistry, OpampCore, AGENT_DISPATCHER],
})
export class OpampModule {}
