import { Module } from '@nestjs/common';
import { AgentsController } from './agents/agents.controller';
import { BootstrapTokensController } from './bootstrap/bootstrap-tokens.controller';
import { ConfigurationsController } from './configurations/configurations.controller';
import { FleetModule } from './fleet.module';
import { GroupReconcileListener } from './groups/group-reconcile.listener';
import { GroupsController } from './groups/groups.controller';

@Module({
  imports: [FleetModule],
  controllers: [AgentsController, BootstrapTokensController, ConfigurationsController, GroupsController],
  providers: [GroupReconcileListener],
})
export class FleetApiModule {}
