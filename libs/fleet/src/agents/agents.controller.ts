import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal, Role } from '@ampora/platform';
import { AgentsService } from './agents.service';
import {
  AgentDetailDto,
  AgentListQueryDto,
  AgentPageDto,
  AssignConfigDto,
  AssignResultDto,
  DisconnectResultDto,
  toAgentDetail,
  toAgentSummary,
} from './dto/agent.dto';

@ApiTags('agents')
@Controller('api/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listAgents', summary: 'The agent inventory (filters: status, label key=value, text)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: AgentPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AgentListQueryDto) {
    const page = await this.agents.list(p.tenantId, { status: q.status, labels: q.label, text: q.text }, q);
    return mapPage(page, (a) => toAgentSummary(a, this.agents.staleAfterSeconds));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgent', summary: 'One agent: capabilities, health, effective and assigned config, remote config status' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AgentDetailDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toAgentDetail(await this.agents.get(p.tenantId, id), this.agents.staleAfterSeconds);
  }

  @Post(':id/disconnect')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'disconnectAgent', summary: 'Close the agent\'s live session (it reconnects)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: DisconnectResultDto })
  async disconnect(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return { agentId: id, delivery: await this.agents.disconnect(p, id) };
  }

  @Post(':id/assign')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'assignAgentConfig', summary: 'Assign a configuration to one agent and push it' })
  @ApiProblems(400, 404, 422)
  @ZodResponse({ status: 200, type: AssignResultDto })
  assign(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: AssignConfigDto) {
    return this.agents.assignYaml(p, id, body.yaml);
  }
}
