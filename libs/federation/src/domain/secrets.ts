import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Federation secrets are 32 CSPRNG bytes, written base64url (43 characters). */
export const SECRET_BYTES = 32;

export function newSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** The 32 bytes of a secret given as base64url (or base64), or undefined when it is not exactly that. */
export function parseSecret(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_\-+/]{43}=?$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url');
  return bytes.length === SECRET_BYTES ? bytes : undefined;
}

/** SHA-256 (hex) of a secret's text: what is stored of it. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `presented` hashes to `storedHash`, compared in constant time (both are 32-byte digests). */
export function secretMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(secretHash(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** SHA-256 thumbprint of a DER certificate, lower-case hex (the pin). */
export function thumbprint(der: Buffer | Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

/** A thumbprint as an operator may paste it (colons, upper case) in the stored form, or undefined. */
export function normaliseThumbprint(text: string): string | undefined {
  const hex = text.replace(/[:\s]/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
