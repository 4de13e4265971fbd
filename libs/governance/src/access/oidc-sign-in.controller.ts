import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { createZodDto, ZodResponse } from 'nestjs-zod';
import { z } from 'zod';
import { AMPORA_CONFIG, AmporaConfig, ApiProblems, Public } from '@ampora/platform';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { OidcDiscovery } from './oidc-discovery';

const OidcSignInSchema = z
  .object({
    enabled: z.boolean().describe('false when the server has no AMPORA_OIDC_ISSUER and AMPORA_OIDC_CLIENT_ID (the other fields are then absent)'),
    issuer: z.string().optional().describe('AMPORA_OIDC_ISSUER'),
    clientId: z.string().optional().describe('AMPORA_OIDC_CLIENT_ID: the public client the console signs in as'),
    scopes: z.string().optional().describe('AMPORA_OIDC_SCOPES, space-separated'),
    audience: z.string().optional().describe('AMPORA_OIDC_AUDIENCE: the API accepts tokens for this audience'),
    authorizationEndpoint: z.string().optional(),
    tokenEndpoint: z.string().optional(),
    endSessionEndpoint: z.string().nullable().optional(),
  });
class OidcSignInDto extends createZodDto(OidcSignInSchema) {}

/**
 * What the console needs to start an authorization-code + PKCE sign-in (decision 0385): anonymous,
 * because it is asked before anyone has signed in; it names public facts only (no secret exists: the
 * console is a public client).
 */
@ApiTags('auth')
@Controller('api/auth/oidc')
@Public()
export class OidcSignInController {
  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly discovery: OidcDiscovery,
  ) {}

  @Get()
  @ApiOperation({ operationId: 'getOidcSignIn', summary: 'The issuer, client id and endpoints for the console\'s OIDC sign-in (anonymous; enabled false when not configured)' })
  @ApiProblems(502)
  @ZodResponse({ status: 200, type: OidcSignInDto })
  async get() {
    const { issuer, clientId, audience, scopes } = this.config.auth.oidc;
    // not an error: a console without single sign-on offers the token form only
    if (!issuer || !clientId || !audience) return { enabled: false };
    const meta = await this.discovery.get().catch((e: unknown) => {
      throw new GovernanceException(GovernanceErrorCode.OIDC_DISCOVERY_FAILED, e instanceof Error ? e.message : 'OIDC discovery failed');
    });
    if (!meta.authorizationEndpoint || !meta.tokenEndpoint) {
      throw new GovernanceException(GovernanceErrorCode.OIDC_DISCOVERY_FAILED, `The discovery document of ${issuer} names no authorization_endpoint or token_endpoint`);
    }
    return { enabled: true, issuer, clientId, scopes, audience, authorizationEndpoint: meta.authorizationEndpoint, tokenEndpoint: meta.tokenEndpoint, endSessionEndpoint: meta.endSessionEndpoint ?? null };
  }
}
