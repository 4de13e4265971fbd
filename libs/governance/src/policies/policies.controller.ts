import { Body, Controller, Get, HttpCode, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute, ReadOnlyRoute } from '../audit/audit-discipline.interceptor';
import { Role } from '../domain/role';
import { ApprovePolicyDto, CreatePolicyDto, DryRunDto, EvaluatePolicyDto, PolicyDto, PolicyPageDto, PolicyQueryDto, PolicySettingsDto, RejectPolicyDto, toPolicyResponse, UpdatePolicyDto } from './dto/policy.dto';
import { PolicyDryRunService } from './policy-dry-run.service';
import { PolicyService } from './policy.service';

/** Custom policies evaluated at push time (decision 0262). Reading is Viewer, changing is Admin. */
@ApiTags('policies')
@Controller('api/policies')
export class PoliciesController {
  constructor(
    private readonly policies: PolicyService,
    private readonly dryRun: PolicyDryRunService,
  ) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listPolicies', summary: 'Custom policies of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: PolicyPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: PolicyQueryDto) {
    return mapPage(await this.policies.list(p.tenantId, q.status, { limit: q.limit, cursor: q.cursor }), toPolicyResponse);
  }

  @Get('settings')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getPolicySettings', summary: 'The tenant\'s policy mode (required or shadow) and built-in switches' })
  @ZodResponse({ status: 200, type: PolicySettingsDto })
  settings(@CurrentPrincipal() p: Principal) {
    return this.policies.settings(p.tenantId);
  }

  @Put('settings')
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'updatePolicySettings', summary: 'Set the policy mode and built-in switches' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: PolicySettingsDto })
  updateSettings(@CurrentPrincipal() p: Principal, @Body() body: PolicySettingsDto) {
    return this.policies.updateSettings(p, body);
  }

  @Post()
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'createPolicy', summary: 'Create a custom policy (Draft)' })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: PolicyDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreatePolicyDto) {
    return toPolicyResponse(await this.policies.create(p, body));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getPolicy', summary: 'One custom policy' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: PolicyDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toPolicyResponse(await this.policies.get(p.tenantId, id));
  }

  @Patch(':id')
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'updatePolicy', summary: 'Edit a policy: a new expression returns an Active policy to Draft; an edit while pending resets its approval' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: PolicyDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdatePolicyDto) {
    return toPolicyResponse(await this.policies.update(p, id, body));
  }

  @Post(':id/submit')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'submitPolicy', summary: 'Submit a Draft (or Disabled) policy for approval: PendingApproval, with an approval request' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: PolicyDto })
  async submit(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toPolicyResponse(await this.policies.submit(p, id));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'approvePolicy', summary: 'Approve a pending policy (Active); never by one of its authors (403 SELF_APPROVAL_FORBIDDEN)' })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 200, type: PolicyDto })
  async approve(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: ApprovePolicyDto) {
    return toPolicyResponse(await this.policies.decide(p, id, { approve: true, comment: body.comment }));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'rejectPolicy', summary: 'Reject a pending policy with a reason (back to Draft)' })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 200, type: PolicyDto })
  async reject(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: RejectPolicyDto) {
    return toPolicyResponse(await this.policies.decide(p, id, { approve: false, reason: body.reason }));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'disablePolicy', summary: 'Disable a policy (a pending approval is withdrawn)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: PolicyDto })
  async disable(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toPolicyResponse(await this.policies.disable(p, id));
  }

  @Post(':id/evaluate')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ReadOnlyRoute()
  @ApiOperation({ operationId: 'evaluatePolicy', summary: 'Dry run: allow or deny, and why, for an agent and a configuration version (or an inline configuration), without pushing' })
  @ApiProblems(400, 404, 503)
  @ZodResponse({ status: 200, type: DryRunDto })
  evaluate(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: EvaluatePolicyDto) {
    return this.dryRun.evaluate(p, id, body);
  }
}
