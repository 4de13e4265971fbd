import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, JWTPayload, jwtVerify } from 'jose';
import { AMPORA_CONFIG, AmporaConfig, Authentication, createLogger } from '@ampora/platform';
import { highestRole } from '../domain/role';
import { TenantService } from '../tenants/tenant.service';
import { OidcDiscovery, OidcDiscoveryError } from './oidc-discovery';

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** Verifies OIDC bearer JWTs against the configured issuer's JWKS and maps claims to a principal. */
@Injectable()
export class OidcVerifier {
  private readonly log = createLogger('Ampora.Platform.Auth.OidcVerifier');
  private keySet?: Promise<KeySet>;

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly tenants: TenantService,
    private readonly discovery: OidcDiscovery,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.auth.oidc.issuer);
  }

  async verify(token: string): Promise<Authentication> {
    const oidc = this.config.auth.oidc;
    if (!oidc.issuer || !oidc.audience) return { ok: false, status: 401, reason: 'OIDC is not configured' };
    let payload: JWTPayload;
    try {
      const keys = await this.keys();
      ({ payload } = await jwtVerify(token, keys, {
        issuer: oidc.issuer,
        audience: oidc.audience,
        clockTolerance: oidc.clockToleranceSeconds,
      }));
    } catch (error) {
      this.keySet = error instanceof OidcDiscoveryError ? undefined : this.keySet;
      const reason = error instanceof joseErrors.JOSEError ? error.code : error instanceof Error ? error.message : 'invalid token';
      this.log.debug('Rejected an OIDC token: {Reason}', { Reason: reason });
      return { ok: false, status: 401, reason: 'The bearer token is not valid' };
    }
    if (typeof payload.sub !== 'string' || !payload.sub) return { ok: false, status: 401, reason: 'The token has no subject' };
    const role = highestRole(payload[oidc.roleClaim]);
    if (!role) return { ok: false, status: 403, reason: `The token carries no known role in claim ${oidc.roleClaim}` };
    const tenantName = payload[oidc.tenantClaim];
    if (typeof tenantName !== 'string' || !tenantName) {
      return { ok: false, status: 403, reason: `The token carries no tenant in claim ${oidc.tenantClaim}` };
    }
    const tenant = await this.tenants.findByName(tenantName);
    if (!tenant) return { ok: false, status: 403, reason: `Tenant ${tenantName} does not exist` };
    return { ok: true, principal: { kind: 'oidc', tenantId: tenant.id, tenantName: tenant.name, role, actor: payload.sub } };
  }

  private keys(): Promise<KeySet> {
    this.keySet ??= this.resolveKeySet();
    return this.keySet;
  }

  private async resolveKeySet(): Promise<KeySet> {
    const jwksUrl = this.config.auth.oidc.jwksUrl ?? (await this.discovery.get()).jwksUri;
    if (!jwksUrl) throw new OidcDiscoveryError(`The OIDC discovery document of ${this.config.auth.oidc.issuer} has no jwks_uri`);
    return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }
}
