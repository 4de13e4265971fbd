import { Module } from '@nestjs/common';
import { AgentsController } from './agents/agents.controller';
import { BootstrapTokensController } from './bootstrap/bootstrap-tokens.controller';
import { FleetModule } from './fleet.module';

@Module({ imports: [FleetModule], controllers: [AgentsController, BootstrapTokensController] })
export class FleetApiModule {}
