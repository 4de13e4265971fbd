import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AGENT_AUTHENTICATOR, AGENT_STATE_SINK, OpampModule } from '@ampora/opamp';
import { AgentAuthenticatorProviders } from './agents/agent-authenticator.providers';
import { AgentRepository } from './agents/agent.repository';
import { AgentStateWriter } from './agents/agent-state.writer';
import { AgentsService } from './agents/agents.service';
import { AgentEntity } from './agents/entities/agent.entity';
import { BootstrapTokenRepository } from './bootstrap/bootstrap-token.repository';
import { BootstrapTokenService } from './bootstrap/bootstrap-token.service';
import { BootstrapTokenEntity } from './bootstrap/entities/bootstrap-token.entity';
import { ConfigurationVersionEntity } from './configurations/entities/configuration-version.entity';
import { ConfigurationEntity } from './configurations/entities/configuration.entity';
import { GroupEntity } from './groups/entities/group.entity';

/** The fleet: agents (inventory, enrolment, state) and, as they land, configurations and groups. */
@Module({
  imports: [TypeOrmModule.forFeature([AgentEntity, BootstrapTokenEntity, ConfigurationEntity, ConfigurationVersionEntity, GroupEntity]), OpampModule],
  providers: [
    AgentRepository,
    AgentStateWriter,
    AgentsService,
    BootstrapTokenRepository,
    BootstrapTokenService,
    ...AgentAuthenticatorProviders,
    { provide: AGENT_STATE_SINK, useExisting: AgentStateWriter },
  ],
  exports: [AgentsService, BootstrapTokenService, AgentStateWriter, AGENT_AUTHENTICATOR, AGENT_STATE_SINK],
})
export class FleetModule {}
