import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '../domain/role';
import { CreatedTokenDto, CreateTokenDto, TokenListQueryDto, TokenPageDto, toTokenResponse } from './dto/token.dto';
import { TokenService } from './token.service';

@ApiTags('tokens')
@Controller('api/tokens')
@MinRole(Role.Admin)
export class TokensController {
  constructor(private readonly tokens: TokenService) {}

  @Get()
  @ApiOperation({ operationId: 'listTokens', summary: 'List personal access tokens of your tenant' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: TokenPageDto })
  async list(@CurrentPrincipal() p: Principal, @Query() query: TokenListQueryDto) {
    return mapPage(await this.tokens.list(p.tenantId, query), toTokenResponse);
  }

  @Post()
  @ApiOperation({ operationId: 'createToken', summary: 'Create a personal access token (shown once); names are unique in the tenant (409 TOKEN_NAME_TAKEN)' })
  @ApiProblems(400, 409)
  @ZodResponse({ status: 201, type: CreatedTokenDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateTokenDto) {
    const { token, plaintext } = await this.tokens.create(p, body);
    return { ...toTokenResponse(token), token: plaintext };
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeToken', summary: 'Revoke a personal access token' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404, 409)
  async revoke(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto): Promise<void> {
    await this.tokens.revoke(p, id);
  }
}
