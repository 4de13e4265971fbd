import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, Clock, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { AgentActionsService } from './agent-actions.service';
import { AgentForgetService } from './agent-forget.service';
import { AgentTagsService } from './agent-tags.service';
import { BulkDeleteDto, BulkDeleteResultDto, ForgetAgentResultDto, UpdateAgentDto } from './dto/agent-operations.dto';
import { AgentsService } from './agents.service';
import { FleetPorts } from '../federation-support/fleet-ports';
import { FleetReads } from '../federation-support/fleet-reads.service';
import {
  AgentDetailDto,
  AgentListQueryDto,
  AgentCountsDto,
  AgentPageDto,
  AssignConfigDto,
  AssignResultDto,
  BulkDisconnectDto,
  BulkDispatchResultDto,
  BulkAssignDto,
  BulkAssignResultDto,
  BulkForcePushDto,
  BulkForcePushResultDto,
  BulkMoveDto,
  BulkMoveResultDto,
  ConfigHistoryPageDto,
  ConfigHistoryQueryDto,
  driftHashes,
  ClearAssignmentResultDto,
  DisconnectResultDto,
  DriftDto,
  MoveAgentDto,
  MoveResultDto,
  toAgentDetail,
  toAgentSummary,
} from './dto/agent.dto';

@ApiTags('agents')
@Controller('api/agents')
export class AgentsController {
  constructor(
    private readonly clock: Clock,
    private readonly agents: AgentsService,
    private readonly actions: AgentActionsService,
    private readonly forgetting: AgentForgetService,
    private readonly tagging: AgentTagsService,
    private readonly reads: FleetReads,
    private readonly ports: FleetPorts,
  ) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listAgents', summary: 'The agent inventory (filters: status, health, label key=value, tag key=value, text, drift, groupId)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: AgentPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: AgentListQueryDto) {
    const filter = { status: q.status, health: q.health, labels: q.label, tags: q.tag, text: q.text, drift: q.drift, groupId: q.groupId };
    const federated = q.includeFederation ? this.ports.optional('federatedAgents') : undefined;
    if (federated) return federated.list(p, filter, { limit: q.limit, cursor: q.cursor }, (page) => this.reads.agentSummaries(p.tenantId, filter, page));
    const page = await this.agents.list(p.tenantId, filter, q);
    const listed = mapPage(page, (a) => toAgentSummary(a, this.agents.staleAfterSeconds, this.clock.nowMs()));
    return q.includeFederation ? { ...listed, federation: { included: true as const, peers: [] } } : listed;
  }

  @Get('summary')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgentCounts', summary: 'Your agents counted by status (connected, stale, disconnected) and reported health' })
  @ApiProblems()
  @ZodResponse({ status: 200, type: AgentCountsDto })
  summary(@CurrentPrincipal() p: Principal) {
    return this.agents.summary(p.tenantId);
  }

  // bulk routes come before the `:id` ones so that "bulk" is never taken for an agent id
  @Post('bulk/move')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkMoveAgents', summary: 'Move up to 10,000 agents into a Static group (or out of any), in one audit event' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: BulkMoveResultDto })
  bulkMove(@CurrentPrincipal() p: Principal, @Body() body: BulkMoveDto) {
    return this.actions.bulkMove(p, body.agentIds, body.groupId);
  }

  @Post('bulk/assign')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkAssignAgents', summary: 'Assign a Published version to up to 5,000 agents directly, in one audit event; pushed after the commit' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: BulkAssignResultDto })
  bulkAssign(@CurrentPrincipal() p: Principal, @Body() body: BulkAssignDto) {
    return this.actions.bulkAssign(p, body.agentIds, { configurationId: body.configurationId, version: body.version });
  }

  @Post('bulk/force-push')
  @HttpCode(202)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkForcePushAgents', summary: 'Re-send the assigned config to up to 5,000 agents, paced by the worker. When a tenant approval rule applies (/api/approval-rules), `{ agents, approvalId }` without `dispatch`: nothing is sent until another person approves' })
  @ApiProblems(400, 422)
  @ZodResponse({ status: 202, type: BulkForcePushResultDto })
  bulkForcePush(@CurrentPrincipal() p: Principal, @Body() body: BulkForcePushDto) {
    return this.actions.bulkForcePush(p, body.agentIds);
  }

  @Post('bulk/disconnect')
  @HttpCode(202)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkDisconnectAgents', summary: 'Close the live sessions of up to 10,000 agents (they reconnect), paced by the worker' })
  @ApiProblems(400, 422)
  @ZodResponse({ status: 202, type: BulkDispatchResultDto })
  bulkDisconnect(@CurrentPrincipal() p: Principal, @Body() body: BulkDisconnectDto) {
    return this.actions.bulkDisconnect(p, body.agentIds);
  }

  @Post('bulk/delete')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'bulkDeleteAgents', summary: 'Forget up to 1,000 agents (as DELETE /api/agents/{id} does each) in one transaction and one audit event' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: BulkDeleteResultDto })
  bulkDelete(@CurrentPrincipal() p: Principal, @Body() body: BulkDeleteDto) {
    return this.forgetting.forgetMany(p, body.agentIds);
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgent', summary: 'One agent: capabilities, health, group, assignment, effective and assigned config, remote config status' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AgentDetailDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const agent = await this.agents.get(p.tenantId, id);
    const failed = agent.lastFailureHash ? (await this.agents.versionsOf(p.tenantId, [agent.lastFailureHash])).get(agent.lastFailureHash) : undefined;
    return toAgentDetail(agent, this.agents.staleAfterSeconds, this.clock.nowMs(), await this.agents.assignmentOf(agent), failed ?? null, await this.agents.certificateOfferOf(agent));
  }

  @Get(':id/config-history')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgentConfigHistory', summary: 'The agent\'s remote-config history, newest first: pushes and the statuses it reported (APPLYING, APPLIED, FAILED with its message)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ConfigHistoryPageDto })
  configHistory(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: ConfigHistoryQueryDto) {
    return this.agents.configHistory(p.tenantId, id, q);
  }

  @Patch(':id')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'updateAgent', summary: 'Set the agent\'s operator tags (replaced as a whole; selectors see them as tag.*)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: AgentDetailDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateAgentDto) {
    await this.tagging.replace(p, id, body.tags!);
    return this.get(p, { id });
  }

  @Delete(':id')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'deleteAgent', summary: 'Forget the agent: revoke its certificates and bootstrap token, close its session, delete it (a reconnect with the same credential is refused)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ForgetAgentResultDto })
  forget(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.forgetting.forget(p, id);
  }

  @Get(':id/drift')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getAgentDrift', summary: 'Assigned vs effective config: drift, unified and semantic diffs' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: DriftDto })
  async drift(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const { agent, ...diff } = await this.agents.drift(p.tenantId, id);
    return { ...diff, ...driftHashes(agent), assignment: await this.agents.assignmentOf(agent) };
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
  @ApiOperation({ operationId: 'assignAgentConfig', summary: 'Assign a configuration to one agent ({ yaml } or a Published { configurationId, version }) and push it' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: AssignResultDto })
  assign(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: AssignConfigDto) {
    if (body.yaml !== undefined) return this.agents.assignYaml(p, id, body.yaml);
    return this.agents.assignVersion(p, id, { configurationId: body.configurationId!, version: body.version! });
  }

  @Delete(':id/assignment')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'clearAgentAssignment', summary: 'Drop the agent\'s own assignment: it runs its group\'s version again' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ClearAssignmentResultDto })
  clearAssignment(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.agents.clearAssignment(p, id);
  }

  @Post(':id/move')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'moveAgent', summary: 'Move the agent into a Static group, or out of any group (atomic)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: MoveResultDto })
  move(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: MoveAgentDto) {
    return this.actions.move(p, id, body.groupId);
  }
}
