import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ZodResponse } from 'nestjs-zod';
import { ApiProblems, CurrentPrincipal, IdParamDto, mapPage, MinRole, Principal } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { CreateSigningKeyDto, SigningKeyActivationDto, SigningKeyDto, SigningKeyListQueryDto, SigningKeyPageDto, toSigningKeyResponse } from './dto/signing-key.dto';
import { SigningKeysService } from './signing-keys.service';

@ApiTags('pki')
@Controller('api/pki/signing-keys')
@MinRole(Role.Admin)
export class SigningKeysController {
  constructor(private readonly keys: SigningKeysService) {}

  @Get()
  @ApiOperation({ operationId: 'listSigningKeys', summary: 'The CA signing keys, newest first (Draft, Active, Trusted, Retired)' })
  @ApiProblems(400)
  @ZodResponse({ status: 200, type: SigningKeyPageDto })
  async list(@Query() q: SigningKeyListQueryDto) {
    return mapPage(await this.keys.list(q), toSigningKeyResponse);
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getSigningKey', summary: 'One CA signing key and its certificate' })
  @ApiProblems(400, 404)
  @ZodResponse({ status: 200, type: SigningKeyDto })
  async get(@Param() { id }: IdParamDto) {
    return toSigningKeyResponse(await this.keys.get(id));
  }

  @Post()
  @ApiOperation({ operationId: 'createSigningKey', summary: 'Generate a new CA key as Draft (in the configured signing provider)' })
  @ApiProblems(400, 403)
  @ZodResponse({ status: 201, type: SigningKeyDto })
  async create(@CurrentPrincipal() p: Principal, @Body() body: CreateSigningKeyDto) {
    return toSigningKeyResponse(await this.keys.create(p, body));
  }

  @Post(':id/activate')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'activateSigningKey',
    summary: 'Ask for a Draft key\'s activation (four-eyes): answered with the pending approval request; when another Admin approves it the key becomes Active and the previous Active key Trusted for the trusted window',
  })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 202, type: SigningKeyActivationDto })
  async activate(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    const { key, approvalId } = await this.keys.requestActivation(p, id);
    return { signingKey: toSigningKeyResponse(key), approvalId };
  }

  @Post(':id/retire')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retireSigningKey', summary: 'Retire a Draft or Trusted key: its certificates are no longer accepted' })
  @ApiProblems(400, 403, 404, 409)
  @ZodResponse({ status: 200, type: SigningKeyDto })
  async retire(@CurrentPrincipal() p: Principal, @Param() { id }: IdParamDto) {
    return toSigningKeyResponse(await this.keys.retire(p, id));
  }
}
