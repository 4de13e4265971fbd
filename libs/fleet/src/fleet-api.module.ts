import { Module } from '@nestjs/common';
import { OpampModule } from '@ampora/opamp';
import { AgentsController } from './agents/agents.controller';
import { ForgottenAgentSessions } from './agents/forgotten-agent-sessions';
import { BootstrapTokensController } from './bootstrap/bootstrap-tokens.controller';
import { RevokedTokenSessions } from './bootstrap/revoked-token-sessions';
import { ConfigurationsController } from './configurations/configurations.controller';
import { FleetModule } from './fleet.module';
import { GroupReconcileListener } from './groups/group-reconcile.listener';
import { GroupsController } from './groups/groups.controller';
import { OwnTelemetryController } from './own-telemetry/own-telemetry.controller';
import { PackageDownloadController, PackagesController } from './packages/packages.controller';

@Module({
  imports: [FleetModule, OpampModule],
  controllers: [AgentsController, BootstrapTokensController, ConfigurationsController, GroupsController, OwnTelemetryController, PackagesController, PackageDownloadController],
  providers: [GroupReconcileListener, RevokedTokenSessions, ForgottenAgentSessions],
})
export class FleetApiModule {}
