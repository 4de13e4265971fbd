import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute, Role } from '@ampora/governance';
import { AbortRolloutDto, CreateRolloutDto, ExtendDwellDto, RolloutDefaultsDto, RolloutDefaultsInputDto, RolloutPreviewQueryDto, RolloutPreviewResultDto, RolloutDto, RolloutStartResultDto, RolloutListQueryDto, RolloutPageDto, RolloutTargetPageDto, RolloutTargetsQueryDto } from './dto/rollout.dto';
import { EffectiveRolloutDefaults, RolloutDefaultsService } from './rollout-defaults.service';
import { RolloutsService } from './rollouts.service';

@ApiTags('rollouts')
@Controller('api/rollouts')
export class RolloutsController {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly defaults: RolloutDefaultsService,
  ) {}

  @Get()
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listRollouts', summary: 'Rollouts of your tenant, newest first' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: RolloutPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: RolloutListQueryDto) {
    const page = await this.rollouts.list(p.tenantId, { state: q.state }, q);
    return { items: await this.rollouts.summaries(page.items), nextCursor: page.nextCursor };
  }

  @Post()
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'createRollout', summary: 'Create a rollout (Pending) of a Published version to a group, with a strategy and gates' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 201, type: RolloutDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateRolloutDto) {
    return this.rollouts.detail(await this.rollouts.create(p, body));
  }

  // the defaults come before the `:id` routes, so that "defaults" is never taken for a rollout id
  @Get('defaults')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getRolloutDefaults', summary: 'What a new rollout takes for the strategy, gates and ordering it leaves out' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: RolloutDefaultsDto })
  async getDefaults(@CurrentPrincipal() p: Principal) {
    return defaultsView(await this.defaults.effective(p.tenantId));
  }

  @Put('defaults')
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'setRolloutDefaults', summary: 'Set the tenant\'s rollout defaults (fields left out or null: the built-in ones); existing rollouts keep theirs' })
  @ApiProblems(400, 422)
  @ZodResponse({ status: 200, type: RolloutDefaultsDto })
  async setDefaults(@CurrentPrincipal() p: Principal, @Body() body: RolloutDefaultsInputDto) {
    return defaultsView(await this.defaults.put(p, body));
  }

  @Delete('defaults')
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'resetRolloutDefaults', summary: 'Back to the built-in rollout defaults' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: RolloutDefaultsDto })
  async resetDefaults(@CurrentPrincipal() p: Principal) {
    return defaultsView(await this.defaults.reset(p));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getRollout', summary: 'A rollout: state, gate breach, progress per step and per agent' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: RolloutDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rollouts.detail(await this.rollouts.get(p.tenantId, id));
  }

  @Get(':id/targets')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'listRolloutTargets', summary: 'Every agent of a rollout, in rollout order (filter by step and state)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: RolloutTargetPageDto })
  async targets(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: RolloutTargetsQueryDto) {
    return this.rollouts.targets(await this.rollouts.get(p.tenantId, id), { step: q.step, state: q.state }, { after: q.after, limit: q.limit });
  }

  @Get(':id/preview')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'previewRollout', summary: 'Which agents step N takes (all steps without ?step): started steps as they ran, the rest from the group now' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: RolloutPreviewResultDto })
  async preview(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Query() q: RolloutPreviewQueryDto) {
    return this.rollouts.preview(await this.rollouts.get(p.tenantId, id), q.step, q.limit);
  }

  @Post(':id/start')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'startRollout', summary: 'Pending → InProgress: the worker starts the first step. When a tenant approval rule applies (/api/approval-rules), 202 `{ rollout, approvalId }`: the rollout stays Pending until another person approves' })
  @ApiAcceptedResponse({ description: 'An approval rule applies: `{ rollout, approvalId }`, the rollout stays Pending until the request at /api/approvals/{approvalId} is approved' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutStartResultDto })
  async start(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Res({ passthrough: true }) res: Response) {
    const outcome = await this.rollouts.start(p, id);
    if (!outcome.approvalId) return this.rollouts.detailAfterGo(outcome.rollout);
    res.status(202);
    return { rollout: await this.rollouts.detail(outcome.rollout), approvalId: outcome.approvalId };
  }

  @Post(':id/pause')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'pauseRollout', summary: 'InProgress → Paused: in-flight pushes complete, no new ones' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async pause(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rollouts.detail(await this.rollouts.pause(p, id));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'resumeRollout', summary: 'Paused → InProgress: continues the current step (after a gate pause its gates are waived for that step)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async resume(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rollouts.detailAfterGo(await this.rollouts.resume(p, id));
  }

  @Post(':id/advance')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'advanceRollout', summary: 'Start the next step now: skips the rest of the dwell, or the wait for an operator' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async advance(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rollouts.detail(await this.rollouts.advance(p, id));
  }

  @Post(':id/extend')
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'extendRolloutDwell', summary: 'Add { seconds } to the current step\'s dwell' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async extend(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: ExtendDwellDto) {
    return this.rollouts.detail(await this.rollouts.extend(p, id, body.seconds));
  }

  @Post(':id/abort')
  @HttpCode(200)
  // the rollout's transition, and the withdrawal of its start's pending approval when there is one (decision 0411)
  @CompoundAuditRoute()
  @MinRole(Role.Operator)
  @ApiOperation({
    operationId: 'abortRollout',
    summary: '→ Failed for good: agents the rollout assigned its version to go back to their group\'s version. A Pending rollout (nothing pushed) just ends, freeing its group, and a start of it waiting for an approval is withdrawn. Optional body `{ reason }`',
  })
  @ApiBody({ type: AbortRolloutDto, required: false })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async abort(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto, @Body() body: AbortRolloutDto) {
    return this.rollouts.detail(await this.rollouts.abort(p, id, body?.reason));
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @CompoundAuditRoute()
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'rollbackRollout', summary: '→ RolledBack: the previous Published version goes to every agent this rollout touched, as a rollback rollout (rollbackId) with the same strategy and gates. A rollout that never started (Failed from Pending) is 409 ROLLOUT_NEVER_STARTED' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: RolloutDto })
  async rollback(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return this.rollouts.detail(await this.rollouts.rollback(p, id));
  }
}

function defaultsView(d: EffectiveRolloutDefaults) {
  return { ...d, updatedAt: d.updatedAt?.toISOString() ?? null };
}
