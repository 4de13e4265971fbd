import { randomBytes } from 'node:crypto';

export const DAY_MS = 86_400_000;
/** Lifetimes of what the CA issues. */
export const LIFETIME_DAYS = { ca: 3650, agent: 365, ocsp: 90, federation: 90 } as const;
/** How far back notBefore is set, so a client with a slightly slow clock accepts a fresh leaf. */
export const BACKDATE_MS = 5 * 60_000;
/** An OCSP responder certificate is replaced this long before it expires. */
export const OCSP_RENEW_BEFORE_DAYS = 30;
/** CRL and OCSP freshness. */
export const CRL_NEXT_UPDATE_MS = 15 * 60_000;
export const OCSP_VALIDITY_MS = 4 * 3600_000;

/** A positive, 16-byte random serial number (lower-case hex, top bit clear so it never reads as negative). */
export function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

/** The validity of a new certificate: `days` long, never beyond its issuer's own notAfter. */
export function validity(now: Date, days: number, issuerNotAfter: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - BACKDATE_MS);
  const wanted = now.getTime() + days * DAY_MS;
  return { notBefore, notAfter: new Date(Math.min(wanted, issuerNotAfter.getTime())) };
}

/** Whether a certificate is close enough to its end to be renewed. */
export function renewalDue(notAfter: Date, now: Date, thresholdDays: number): boolean {
  return notAfter.getTime() - now.getTime() <= thresholdDays * DAY_MS;
}

export function inValidityWindow(notBefore: Date, notAfter: Date, now: Date): boolean {
  return notBefore.getTime() <= now.getTime() && now.getTime() <= notAfter.getTime();
}

/** Public keys accepted in certificate requests. */
export function acceptablePublicKey(algorithm: { name: string; namedCurve?: string; modulusLength?: number }): string | undefined {
  if (algorithm.name === 'ECDSA' || algorithm.name === 'ECDH') {
    return algorithm.namedCurve === 'P-256' || algorithm.namedCurve === 'P-384' ? undefined : `elliptic curve ${algorithm.namedCurve ?? '?'} is not accepted (P-256 or P-384)`;
  }
  if (algorithm.name === 'RSASSA-PKCS1-v1_5' || algorithm.name === 'RSA-PSS' || algorithm.name === 'RSA-OAEP') {
    return (algorithm.modulusLength ?? 0) >= 2048 ? undefined : `RSA keys must have at least 2048 bits (got ${algorithm.modulusLength ?? '?'})`;
  }
  return `key algorithm ${algorithm.name} is not accepted (RSA ≥ 2048 or ECDSA P-256/P-384)`;
}

/** RFC 5280 reason codes Ampora uses. */
export const REVOCATION_REASONS = { unspecified: 0, keyCompromise: 1, superseded: 4, cessationOfOperation: 5 } as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;
