import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { Principal } from '../context/request-context';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { CurrentPrincipal, MinRole } from './auth.decorators';

const MeSchema = z
  .object({
    kind: z.enum(['pat', 'oidc', 'system']).describe('How the caller signed in'),
    tenantId: z.uuid(),
    tenantName: z.string(),
    role: z.enum(['Viewer', 'Operator', 'Admin']),
    actor: z.string().describe('The audit actor: the token name or the OIDC subject'),
  });
class MeDto extends createZodDto(MeSchema) {}

/** Who the caller is: what the console shows (role chip, tenant) and gates its controls on. */
@ApiTags('auth')
@Controller('api/me')
@MinRole('Viewer')
export class MeController {
  @Get()
  @ApiOperation({ operationId: 'getMe', summary: 'The signed-in caller: tenant, role and audit actor (no secret)' })
  @ApiProblems()
  @ZodResponse({ status: 200, type: MeDto })
  me(@CurrentPrincipal() p: Principal) {
    return { kind: p.kind, tenantId: p.tenantId, tenantName: p.tenantName, role: p.role, actor: p.actor };
  }
}
