import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, MinRole, Principal } from '@ampora/platform';
import { CompoundAuditRoute, Role } from '@ampora/governance';
import { CreateFederatedRolloutDto, FederatedRolloutDto, toFederatedRolloutResponse } from '../dto/federated-rollout.dto';
import { FederatedRolloutsService } from './federated-rollouts.service';

@ApiTags('rollouts')
@Controller('api/rollouts/federated')
export class FederatedRolloutsController {
  constructor(private readonly rollouts: FederatedRolloutsService) {}

  @Post()
  // the federated rollout's event and, for this deployment's leg, its rollout's own (the same caller)
  @CompoundAuditRoute()
  @MinRole(Role.Admin)
  @ApiOperation({ operationId: 'createFederatedRollout', summary: 'Roll a Published version out on several deployments at once (pre-flight: the same content Published on every target), one leg each' })
  @ApiProblems(400, 404, 409, 422)
  @ZodResponse({ status: 201, type: FederatedRolloutDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateFederatedRolloutDto) {
    return toFederatedRolloutResponse(await this.rollouts.create(p, body));
  }

  @Get(':id')
  @MinRole(Role.Viewer)
  @ApiOperation({ operationId: 'getFederatedRollout', summary: 'A federated rollout: its state and every leg\'s state and counts' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: FederatedRolloutDto })
  async get(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toFederatedRolloutResponse(await this.rollouts.get(p.tenantId, id));
  }

  @Post(':id/pause')
  // the federated rollout's event and, for this deployment's leg, its rollout's own (the same caller)
  @CompoundAuditRoute()
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'pauseFederatedRollout', summary: 'Pause every leg' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: FederatedRolloutDto })
  async pause(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toFederatedRolloutResponse(await this.rollouts.control(p, id, 'pause'));
  }

  @Post(':id/resume')
  // the federated rollout's event and, for this deployment's leg, its rollout's own (the same caller)
  @CompoundAuditRoute()
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'resumeFederatedRollout', summary: 'Resume every paused leg' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: FederatedRolloutDto })
  async resume(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toFederatedRolloutResponse(await this.rollouts.control(p, id, 'resume'));
  }

  @Post(':id/abort')
  // the federated rollout's event and, for this deployment's leg, its rollout's own (the same caller)
  @CompoundAuditRoute()
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'abortFederatedRollout', summary: 'Abort every active leg (pushed agents keep the new version)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: FederatedRolloutDto })
  async abort(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toFederatedRolloutResponse(await this.rollouts.control(p, id, 'abort'));
  }

  @Post(':id/rollback')
  // the federated rollout's event and, for this deployment's leg, its rollout's own (the same caller)
  @CompoundAuditRoute()
  @HttpCode(200)
  @MinRole(Role.Operator)
  @ApiOperation({ operationId: 'rollbackFederatedRollout', summary: 'Roll every leg back to its previous Published version (a Completed leg keeps its version)' })
  @ApiProblems(400, 404, 409)
  @ZodResponse({ status: 200, type: FederatedRolloutDto })
  async rollback(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toFederatedRolloutResponse(await this.rollouts.control(p, id, 'rollback'));
  }
}
