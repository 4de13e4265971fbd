import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentDescriptionHandler } from './core/handlers/agent-description.handler';
import { CapabilitiesHandler } from './core/handlers/capabilities.handler';
import { ConnectionSettingsHandler } from './core/handlers/connection-settings.handler';
import { DisconnectHandler } from './core/handlers/disconnect.handler';
import { EffectiveConfigHandler } from './core/handlers/effective-config.handler';
import { HealthHandler } from './core/handlers/health.handler';
import { PackageStatusesHandler } from './core/handlers/package-statuses.handler';
import { RemoteConfigStatusHandler } from './core/handlers/remote-config-status.handler';
import { OpampCore } from './core/opamp-core.service';
import { RemoteConfigOffers } from './core/remote-config-offers';
import { SessionAttacher } from './core/session-attacher';
import { SessionEnder } from './core/session-ender';
import { SessionRegistry } from './core/session-registry';
import { AGENT_DISPATCHER } from './dispatch/agent-dispatcher';
import { BackplaneDispatcher } from './dispatch/backplane-dispatcher';
import { LocalDelivery } from './dispatch/local-delivery';
import { OpampPortsModule } from './opamp-ports';
import { AgentSessionOwnershipEntity } from './ownership/entities/agent-session-ownership.entity';
import { SessionOwnershipRepository } from './ownership/session-ownership.repository';

/** One handler per part of AgentToServer (core/handlers/), orchestrated by OpampCore. */
const PART_HANDLERS = [
  AgentDescriptionHandler,
  CapabilitiesHandler,
  HealthHandler,
  EffectiveConfigHandler,
  RemoteConfigStatusHandler,
  PackageStatusesHandler,
  ConnectionSettingsHandler,
  DisconnectHandler,
];

/**
 * The protocol core, the sessions of this instance and the dispatcher (every process: the worker's
 * dispatcher forwards to the instance that holds the agent). The ports (agent authenticator, state
 * sink, certificates) are bound by the modules that implement them (fleet, pki) with bindOpampPorts.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AgentSessionOwnershipEntity]), OpampPortsModule],
  providers: [
    SessionRegistry,
    ...PART_HANDLERS,
    SessionAttacher,
    SessionEnder,
    RemoteConfigOffers,
    OpampCore,
    LocalDelivery,
    SessionOwnershipRepository,
    BackplaneDispatcher,
    { provide: AGENT_DISPATCHER, useExisting: BackplaneDispatcher },
  ],
  exports: [OpampPortsModule, SessionRegistry, OpampCore, LocalDelivery, SessionOwnershipRepository, AGENT_DISPATCHER],
})
export class OpampModule {}
