import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';

/** The parts of an issuer's discovery document Ampora reads. */
export interface OidcMetadata {
  issuer: string;
  jwksUri?: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  endSessionEndpoint?: string;
}

export class OidcDiscoveryError extends Error {}

/**
 * `<issuer>/.well-known/openid-configuration`, fetched once and kept; a failed fetch is not kept, so
 * the next caller tries again. The verifier reads the JWKS URL from it, the console's sign-in its
 * authorization and token endpoints (decision 0385).
 */
@Injectable()
export class OidcDiscovery {
  private metadata?: Promise<OidcMetadata>;
  private resolved?: OidcMetadata;

  constructor(@Inject(AMPORA_CONFIG) private readonly config: AmporaConfig) {}

  /** The discovery document, or an OidcDiscoveryError when it cannot be had. */
  get(): Promise<OidcMetadata> {
    const issuer = this.config.auth.oidc.issuer;
    if (!issuer) return Promise.reject(new OidcDiscoveryError('OIDC is not configured'));
    this.metadata ??= this.fetch(issuer).then(
      (m) => (this.resolved = m),
      (e: unknown) => {
        this.metadata = undefined;
        throw e;
      },
    );
    return this.metadata;
  }

  /** What was discovered so far, without waiting (the console page's CSP reads it). */
  known(): OidcMetadata | undefined {
    return this.resolved;
  }

  private async fetch(issuer: string): Promise<OidcMetadata> {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => {
      throw new OidcDiscoveryError(`OIDC discovery at ${url} failed: ${String(e)}`);
    });
    if (!res.ok) throw new OidcDiscoveryError(`OIDC discovery at ${url} answered ${res.status}`);
    const doc = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    const str = (k: string) => (typeof doc[k] === 'string' && doc[k] ? (doc[k] as string) : undefined);
    return {
      issuer: str('issuer') ?? issuer,
      jwksUri: str('jwks_uri'),
      authorizationEndpoint: str('authorization_endpoint'),
      tokenEndpoint: str('token_endpoint'),
      endSessionEndpoint: str('end_session_endpoint'),
    };
  }
}
