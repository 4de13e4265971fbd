import { OnModuleInit } from '@nestjs/common';
import { PushContextBinding, PushTimeChecks } from '@ampora/governance';
import { AvailableComponentsCheck } from './push-checks/available-components.check';
import { PACKAGE_STORE_PROVIDER, PackageStore } from './packages/package-store';
import { PackagesService } from './packages/packages.service';
import { PackageRolloutSupport } from './packages/package-rollout-support';
import { FleetPushContextSource } from './push-checks/fleet-push-context.source';
import { PushGate } from './push-checks/push-gate.service';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule } from '@ampora/platform';
import { AGENT_AUTHENTICATOR, AGENT_STATE_SINK, bindOpampPorts, OpampModule } from '@ampora/opamp';
import { FleetAgentAuthenticator } from './agents/agent-authenticator.service';
import { PkiModule } from '@ampora/pki';
import { AgentActionsService } from './agents/agent-actions.service';
import { AgentForgetService } from './agents/agent-forget.service';
import { AgentTagsService } from './agents/agent-tags.service';
import { AgentAuthenticatorProviders } from './agents/agent-authenticator.providers';
import { AgentRepository } from './agents/agent.repository';
import { AgentStateWriter } from './agents/agent-state.writer';
import { AgentConfigEventRepository } from './agents/agent-config-event.repository';
import { AgentDriftService } from './agents/agent-drift';
import { AgentsService } from './agents/agents.service';
import { AgentEntity } from './agents/entities/agent.entity';
import { AgentConfigEventEntity } from './agents/entities/agent-config-event.entity';
import { AssignmentService } from './assignment/assignment.service';
import { FleetDispatchService } from './assignment/fleet-dispatch.service';
import { BootstrapTokenRepository } from './bootstrap/bootstrap-token.repository';
import { BootstrapTokenService } from './bootstrap/bootstrap-token.service';
import { BootstrapTokenEntity } from './bootstrap/entities/bootstrap-token.entity';
import { ConfigurationVersionRepository } from './configurations/configuration-version.repository';
import { ConfigurationRepository } from './configurations/configuration.repository';
import { ConfigurationLifecycleService } from './configurations/configuration-lifecycle.service';
import { ConfigurationsService } from './configurations/configurations.service';
import { ConfigTextLimits } from './configurations/config-limits';
import { ConfigurationVersionEntity } from './configurations/entities/configuration-version.entity';
import { ConfigurationEntity } from './configurations/entities/configuration.entity';
import { FLEET_QUEUE } from './fleet.jobs';
import { FleetTransactions } from './fleet-transactions';
import { GroupEntity } from './groups/entities/group.entity';
import { GroupPreviewService } from './groups/group-preview.service';
import { GroupReconcileTrigger } from './groups/group-reconcile.trigger';
import { GroupReconciler } from './groups/group-reconciler.service';
import { GroupRepository } from './groups/group.repository';
import { GroupsService } from './groups/groups.service';
import { RolloutSupportService } from './rollout-support/rollout-support.service';
import { FleetPortsModule } from './federation-support/fleet-ports';
import { FleetReads } from './federation-support/fleet-reads.service';
import { AgentHandovers } from './federation-support/agent-handovers';
import { AgentEndpointService } from './agents/agent-endpoint.service';
import { OwnTelemetryCredentials } from './own-telemetry/own-telemetry.credentials';
import { OwnTelemetryIntake } from './own-telemetry/own-telemetry.intake';
import { OwnTelemetrySettings } from './own-telemetry/own-telemetry.offers';
import { OwnTelemetryRepository } from './own-telemetry/own-telemetry.repository';
import { OwnTelemetryService } from './own-telemetry/own-telemetry.service';
import { OwnTelemetryStore } from './own-telemetry/own-telemetry.store';

/**
 * The fleet: agents (inventory, enrolment, state), configurations and their versions, groups, and
 * the assignment of versions to agents. Imported by FleetApiModule (server) and FleetWorkerModule.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AgentEntity, AgentConfigEventEntity, BootstrapTokenEntity, ConfigurationEntity, ConfigurationVersionEntity, GroupEntity]), OpampModule, PkiModule, QueueModule.forFeature(FLEET_QUEUE), FleetPortsModule],
  providers: [
    AgentRepository,
    AgentConfigEventRepository,
    AgentDriftService,
    AgentStateWriter,
    AgentsService,
    AgentActionsService,
    AgentForgetService,
    AgentTagsService,
    BootstrapTokenRepository,
    BootstrapTokenService,
    ConfigurationRepository,
    ConfigurationVersionRepository,
    ConfigurationsService,
    ConfigurationLifecycleService,
    ConfigTextLimits,
    GroupRepository,
    GroupsService,
    GroupPreviewService,
    GroupReconciler,
    GroupReconcileTrigger,
    AssignmentService,
    FleetDispatchService,
    FleetTransactions,
    RolloutSupportService,
    FleetReads,
    AgentHandovers,
    PushGate,
    AvailableComponentsCheck,
    PACKAGE_STORE_PROVIDER,
    PackagesService,
    PackageRolloutSupport,
    FleetPushContextSource,
    ...AgentAuthenticatorProviders,
    { provide: AGENT_STATE_SINK, useExisting: AgentStateWriter },
    // the OpAMP ports fleet fills: agents, their state, packages (decision 0331), own telemetry (decision 0320)
    bindOpampPorts({ authenticator: FleetAgentAuthenticator, stateSink: AgentStateWriter, packageOffers: PackagesService, ownTelemetry: OwnTelemetrySettings, sideRoutes: OwnTelemetryIntake }),
    // agents' own telemetry (decision 0320) and operator connection settings (decision 0322)
    OwnTelemetryRepository,
    OwnTelemetryCredentials,
    OwnTelemetryStore,
    OwnTelemetryService,
    OwnTelemetrySettings,
    OwnTelemetryIntake,
    AgentEndpointService,
  ],
  exports: [
    AgentsService,
    AgentDriftService,
    AgentActionsService,
    AgentForgetService,
    AgentTagsService,
    BootstrapTokenService,
    AgentStateWriter,
    ConfigurationsService,
    ConfigurationLifecycleService,
    GroupsService,
    GroupPreviewService,
    GroupReconciler,
    GroupReconcileTrigger,
    AssignmentService,
    FleetDispatchService,
    FleetTransactions,
    RolloutSupportService,
    PushGate,
    FleetReads,
    AgentHandovers,
    FleetPortsModule,
    PackageStore,
    PackagesService,
    PackageRolloutSupport,
    AGENT_AUTHENTICATOR,
    AGENT_STATE_SINK,
    OwnTelemetryService,
    OwnTelemetryStore,
    AgentEndpointService,
  ],
})
export class FleetModule implements OnModuleInit {
  constructor(
    private readonly binding: PushContextBinding,
    private readonly source: FleetPushContextSource,
    private readonly checks: PushTimeChecks,
    private readonly components: AvailableComponentsCheck,
  ) {}

  /** Binds governance's dry-run port and registers fleet's push-time check explicitly (decisions 0275, 0330). */
  onModuleInit(): void {
    this.binding.bind(this.source);
    if (!this.checks.names().includes(this.components.name)) this.checks.register(this.components);
  }
}
