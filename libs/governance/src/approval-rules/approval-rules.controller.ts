import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { ApprovalRuleStatus } from '../domain/approval-rules/approval-rule';
import { Role } from '../domain/role';
import { ApprovalRuleService } from './approval-rule.service';
import { ApprovalRuleDto, ApprovalRulePageDto, ApprovalRuleQueryDto, CreateApprovalRuleDto, toApprovalRuleResponse, UpdateApprovalRuleDto } from './dto/approval-rule.dto';

/** Tenant-defined approval rules (decision 0365): which operations need a second person. Reading is Viewer, changing is Admin. */
@ApiTags('approval-rules')
@Controller('api/approval-rules')
export class ApprovalRulesController {
  constructor(private readonly rules: ApprovalRuleService) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listApprovalRules', summary: 'Approval rules of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: ApprovalRulePageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: ApprovalRuleQueryDto) {
    return mapPage(await this.rules.list(p.tenantId, { status: q.status, operation: q.operation }, { limit: q.limit, cursor: q.cursor }), toApprovalRuleResponse);
  }

  @Post()
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'createApprovalRule', summary: 'Create an approval rule (Active unless said otherwise): matching operations wait for another person\'s approval' })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: ApprovalRuleDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateApprovalRuleDto) {
    return toApprovalRuleResponse(await this.rules.create(p, body));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getApprovalRule', summary: 'One approval rule' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ApprovalRuleDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toApprovalRuleResponse(await this.rules.get(p.tenantId, id));
  }

  @Patch(':id')
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'updateApprovalRule', summary: 'Edit an approval rule (requests already pending keep the role they asked for)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: ApprovalRuleDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateApprovalRuleDto) {
    return toApprovalRuleResponse(await this.rules.update(p, id, body));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'enableApprovalRule', summary: 'Make an approval rule Active' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ApprovalRuleDto })
  async enable(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toApprovalRuleResponse(await this.rules.update(p, id, { status: ApprovalRuleStatus.Active }));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'disableApprovalRule', summary: 'Make an approval rule Disabled (requests already pending stay pending)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: ApprovalRuleDto })
  async disable(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toApprovalRuleResponse(await this.rules.update(p, id, { status: ApprovalRuleStatus.Disabled }));
  }

  @Delete(':id')
  @HttpCode(204)
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'deleteApprovalRule', summary: 'Delete an approval rule (requests already pending stay pending)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404)
  async delete(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    await this.rules.delete(p, id);
  }
}
