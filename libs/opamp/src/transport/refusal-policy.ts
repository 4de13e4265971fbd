import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How long a refused credential must wait before it is looked at again (decision 0120): the first
 * refusal costs `baseSeconds`, each further one within the memory doubles it, up to `maxSeconds`.
 * opamp-go reconnects at once after a server-side close but honours `Retry-After` on a refused
 * upgrade, so a refused agent makes a handful of attempts a minute instead of thousands.
 */
export function refusalDelaySeconds(strikes: number, baseSeconds: number, maxSeconds: number): number {
  if (strikes <= 0) return 0;
  const exponent = Math.min(strikes - 1, 30);
  return Math.min(maxSeconds, baseSeconds * 2 ** exponent);
}

/** The `Retry-After` value (whole seconds, at least 1) for a block that ends `remainingMs` from now. */
export function retryAfterSeconds(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs / 1000));
}

/**
 * What a refusal is remembered by: the credential the connection presented (a digest of the bearer
 * token, or the client certificate's fingerprint, or "none") and its source address. Never the token
 * itself: the key is stored in Redis.
 */
export function refusalKey(headers: IncomingHttpHeaders, certificateFingerprint: string | undefined, source: string | undefined): string {
  let credential = 'none';
  if (certificateFingerprint) credential = `cert:${certificateFingerprint}`;
  else {
    const header = headers.authorization;
    if (typeof header === 'string' && header.length > 0) credential = `bearer:${createHash('sha256').update(header.trim()).digest('hex')}`;
  }
  return createHash('sha256').update(`${credential}|${source ?? 'unknown'}`).digest('hex').slice(0, 40);
}
