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

@Module({
  imports: [FleetModule, OpampModule],
  controllers: [AgentsController, BootstrapTokensController, ConfigurationsController, GroupsController],
  providers: [GroupReconcileListener, RevokedTokenSessions, ForgottenAgentSessions],
})
export class FleetApiModule {}
