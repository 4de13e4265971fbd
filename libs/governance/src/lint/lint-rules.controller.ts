import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute } from '../audit/audit-discipline.interceptor';
import { LintRuleStatus } from '../domain/lint/lint-rule';
import { Role } from '../domain/role';
import { CreateLintRuleDto, LintRuleDto, LintRulePageDto, LintRuleQueryDto, toLintRuleResponse, UpdateLintRuleDto } from './dto/lint-rule.dto';
import { LintRuleService } from './lint-rule.service';

const FOUR_EYES = 'When the tenant\'s four-eyes mode is on, the change waits in `pendingChange` for another Admin\'s approval (/api/approvals).';

/** Tenant lint rules run in configuration version validation (decision 0300). Reading is Viewer, changing is Admin. */
@ApiTags('lint-rules')
@Controller('api/lint-rules')
export class LintRulesController {
  constructor(private readonly rules: LintRuleService) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listLintRules', summary: 'Lint rules of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: LintRulePageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: LintRuleQueryDto) {
    return mapPage(await this.rules.list(p.tenantId, q.status, { limit: q.limit, cursor: q.cursor }), toLintRuleResponse);
  }

  @Post()
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'createLintRule', summary: `Create a lint rule (Active unless said otherwise). ${FOUR_EYES} Until then it is Disabled.` })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: LintRuleDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateLintRuleDto) {
    return toLintRuleResponse(await this.rules.create(p, body));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getLintRule', summary: 'One lint rule' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: LintRuleDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toLintRuleResponse(await this.rules.get(p.tenantId, id));
  }

  @Patch(':id')
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'updateLintRule', summary: `Edit a lint rule. ${FOUR_EYES}` })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: LintRuleDto })
  async update(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: UpdateLintRuleDto) {
    return toLintRuleResponse(await this.rules.update(p, id, body));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'enableLintRule', summary: `Make a lint rule Active. ${FOUR_EYES}` })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: LintRuleDto })
  async enable(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toLintRuleResponse(await this.rules.update(p, id, { status: LintRuleStatus.Active }));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'disableLintRule', summary: `Make a lint rule Disabled. ${FOUR_EYES}` })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: LintRuleDto })
  async disable(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toLintRuleResponse(await this.rules.update(p, id, { status: LintRuleStatus.Disabled }));
  }

  @Delete(':id')
  @HttpCode(204)
  @MinRole(Role.Admin)
  @CompoundAuditRoute()
  @ApiOperation({ operationId: 'deleteLintRule', summary: `Delete a lint rule (204). ${FOUR_EYES} (202 with the rule)` })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiAcceptedResponse({ description: 'Four-eyes mode: the deletion waits for approval', type: LintRuleDto })
  @ApiProblems(400, 404)
  async delete(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Res({ passthrough: true }) res: Response) {
    const pending = await this.rules.delete(p, id);
    if (!pending) return undefined;
    res.status(202);
    return toLintRuleResponse(pending);
  }
}
