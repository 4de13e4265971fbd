import { Injectable } from '@nestjs/common';
import { AccessPolicy, Authentication, Principal, RoleName } from '@ampora/platform';
import { roleAtLeast } from '../domain/role';
import { TokenService } from '../tokens/token.service';
import { OidcVerifier } from './oidc.verifier';

const PAT_PREFIX = 'amp-pat.';

/**
 * Governance's answer to platform's `AccessPolicy` port (decision 0180): bearer PATs (`amp-pat.`)
 * and, when configured, OIDC JWTs authenticate; the role ranking decides.
 */
@Injectable()
export class GovernanceAccessPolicy extends AccessPolicy {
  constructor(
    private readonly tokens: TokenService,
    private readonly oidc: OidcVerifier,
  ) {
    super();
  }

  async authenticate(authorization: string | undefined): Promise<Authentication> {
    const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
    if (!match) return { ok: false, status: 401, reason: 'Send Authorization: Bearer <token>' };
    const token = match[1]!;
    if (token.startsWith(PAT_PREFIX)) {
      const principal = await this.tokens.authenticate(token);
      if (!principal) return { ok: false, status: 401, reason: 'The access token is unknown, revoked, expired or malformed' };
      return { ok: true, principal };
    }
    if (!this.oidc.enabled) return { ok: false, status: 401, reason: 'The bearer token is not a personal access token' };
    return this.oidc.verify(token);
  }

  permits(principal: Principal, required: RoleName): boolean {
    return roleAtLeast(principal.role, required);
  }
}
