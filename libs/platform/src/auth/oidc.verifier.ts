import { Inject, Injectable } from '@nestjs/common';
import { createRemoteJWKSet, errors as joseErrors, JWTPayload, jwtVerify } from 'jose';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { Principal } from '../context/request-context';
import { createLogger } from '../logging/logger';
import { highestRole } from './role';
import { TenantService } from './tenant.service';

export type OidcOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; status: 401 | 403; reason: string };

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** Verifies OIDC bearer JWTs against the configured issuer's JWKS and maps claims to a principal. */
@Injectable()
export class OidcVerifier {
  private readonly log = createLogger('Ampora.Platform.Auth.OidcVerifier');
  private keySet?: Promise<KeySet>;

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
    private readonly tenants: TenantService,
  ) {}

  get enabled(): boolean {
    return Boolean(this.config.auth.oidc.issuer);
  }

  async verify(token: string): Promise<OidcOutcome> {
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
      this.keySet = error instanceof DiscoveryError ? undefined : this.keySet;
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
    const oidc = this.config.auth.oidc;
    let jwksUrl = oidc.jwksUrl;
    if (!jwksUrl) {
      const discovery = `${oidc.issuer!.replace(/\/+$/, '')}/.well-known/openid-configuration`;
      const res = await fetch(discovery, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => {
        throw new DiscoveryError(`OIDC discovery at ${discovery} failed: ${String(e)}`);
      });
      if (!res.ok) throw new DiscoveryError(`OIDC discovery at ${discovery} answered ${res.status}`);
      const doc = (await res.json()) as { jwks_uri?: unknown };
      if (typeof doc.jwks_uri !== 'string') throw new DiscoveryError(`OIDC discovery at ${discovery} has no jwks_uri`);
      jwksUrl = doc.jwks_uri;
    }
    return createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }
}

class DiscoveryError extends Error {}
