import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { AMPORA_CONFIG, AmporaConfig, ApiProblems, Clock, CurrentPrincipal, IdParamDto, MinRole, Principal } from '@ampora/platform';
import { ReadOnlyRoute, Role } from '@ampora/governance';
import { toAgentSummary } from '../agents/dto/agent.dto';
import {
  AddMembersDto,
  CreateGroupDto,
  GroupAssignmentOutcomeDto,
  GroupAssignmentResultDto,
  GroupDto,
  GroupListQueryDto,
  GroupPageDto,
  MemberParamDto,
  MembersResultDto,
  PreviewDto,
  PreviewResultDto,
  SetAssignmentDto,
  UpdateGroupDto,
} from './dto/group.dto';
import { GroupPreviewService } from './group-preview.service';
import { GroupsService } from './groups.service';

@ApiTags('groups')
@Controller('api/groups')
export class GroupsController {
  constructor(
    private readonly clock: Clock,
    private readonly groups: GroupsService,
    private readonly previews: GroupPreviewService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listGroups', summary: 'Groups of your tenant, newest first (?deleted=true: the deleted ones)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: GroupPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: GroupListQueryDto) {
    const page = await this.groups.list({ tenantId: p.tenantId, deleted: q.deleted, kind: q.kind }, q);
    return { items: await this.groups.describe(page.items), nextCursor: page.nextCursor };
  }

  @Post()
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'createGroup', summary: 'Create a Static group or a Dynamic group with a selector' })
  @ApiProblems(400, 409, 422)
  @ZodResponse({ status: 201, type: GroupDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateGroupDto) {
    return (await this.groups.describe([await this.groups.create(p, body)]))[0];
  }

  @Post('preview')
  @HttpCode(200)
  @ReadOnlyRoute()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'previewGroupSelector', summary: 'Which agents a selector matches (changes nothing)' })
  @ApiProblems(400, 422)
  @ZodResponse({ status: 200, type: PreviewResultDto })
  async preview(@CurrentPrincipal() p: Principal, @Body() body: PreviewDto) {
    const r = await this.previews.preview(p.tenantId, body.selector, body.limit);
    return { ...r, selector: body.selector, agents: r.agents.map((a) => toAgentSummary(a, this.config.opamp.heartbeatWindowSeconds, this.clock.nowMs())) };
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getGroup', summary: 'One group (deleted ones too)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GroupDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return (await this.groups.describe([await this.groups.get(p.tenantId, id)]))[0];
  }

  @Patch(':id')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'updateGroup', summary: 'Rename, re-describe, or change a Dynamic group\'s selector or priority' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: GroupDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateGroupDto) {
    return (await this.groups.describe([await this.groups.update(p, id, body)]))[0];
  }

  @Delete(':id')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'deleteGroup', summary: 'Soft-delete a group: its members leave it; restorable' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GroupDto })
  async delete(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return (await this.groups.describe([await this.groups.delete(p, id)]))[0];
  }

  @Post(':id/restore')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'restoreGroup', summary: 'Restore a deleted group (with its static members still in no group)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: GroupDto })
  async restore(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return (await this.groups.describe([await this.groups.restore(p, id)]))[0];
  }

  @Post(':id/members')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'addGroupMembers', summary: 'Put agents into a Static group (each leaves its previous group atomically)' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 200, type: MembersResultDto })
  async addMembers(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: AddMembersDto) {
    return { groupId: id, ...(await this.groups.addMembers(p, id, body.agentIds)) };
  }

  @Delete(':id/members/:agentId')
  @HttpCode(204)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'removeGroupMember', summary: 'Take an agent out of a Static group' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 404, 409)
  async removeMember(@CurrentPrincipal() p: Principal, @Param() { id, agentId }: MemberParamDto): Promise<void> {
    await this.groups.removeMember(p, id, agentId);
  }

  @Put(':id/assignment')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'setGroupAssignment', summary: 'Assign a Published configuration version to the group and push it to its members. When a tenant approval rule applies (/api/approval-rules), 202 `{ group, approvalId }`: the group keeps its assignment until another person approves' })
  @ApiAcceptedResponse({ description: 'An approval rule applies: `{ group, approvalId }`, nothing is assigned until the request at /api/approvals/{approvalId} is approved' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: GroupAssignmentOutcomeDto })
  async setAssignment(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: SetAssignmentDto, @Res({ passthrough: true }) res: Response) {
    const { approvalId, ...r } = await this.groups.setAssignment(p, id, body);
    const group = (await this.groups.describe([r.group]))[0]!;
    if (!approvalId) return { ...r, group };
    res.status(202);
    return { group, approvalId };
  }

  @Delete(':id/assignment')
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'clearGroupAssignment', summary: 'Remove the group\'s assigned version (members keep running what they have)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: GroupAssignmentResultDto })
  async clearAssignment(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const r = await this.groups.setAssignment(p, id, null);
    return { ...r, group: (await this.groups.describe([r.group]))[0]! };
  }
}
