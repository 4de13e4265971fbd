import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, Clock, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { BootstrapTokenService } from './bootstrap-token.service';
import {
  BootstrapTokenListQueryDto,
  BootstrapTokenPageDto,
  CreateBootstrapTokenDto,
  CreatedBootstrapTokenDto,
  toBootstrapTokenResponse,
} from './dto/bootstrap-token.dto';

@ApiTags('bootstrap-tokens')
@Controller('api/bootstrap-tokens')
@MinRole(Role.Operator)
export class BootstrapTokensController {
  constructor(private readonly clock: Clock, private readonly tokens: BootstrapTokenService) {}

  @Post()
  @ApiOperation({ operationId: 'createBootstrapToken', summary: 'Issue a bootstrap token for enrolling agents (shown once)' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 201, type: CreatedBootstrapTokenDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateBootstrapTokenDto) {
    const { token, plaintext } = await this.tokens.issue(p, body);
    return { ...toBootstrapTokenResponse(token, this.clock.nowMs()), token: plaintext };
  }

  @Get()
  @ApiOperation({ operationId: 'listBootstrapTokens', summary: 'List bootstrap tokens of your tenant' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: BootstrapTokenPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() q: BootstrapTokenListQueryDto) {
    return mapPage(await this.tokens.list(p.tenantId, q), (t) => toBootstrapTokenResponse(t, this.clock.nowMs()));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeBootstrapToken', summary: 'Revoke a bootstrap token (its agent can no longer use it)' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404, 409)
  async revoke(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto): Promise<void> {
    await this.tokens.revoke(p, id);
  }
}
