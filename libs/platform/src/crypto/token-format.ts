import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without padding. */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, the one of zip and PNG). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The check part of a token: CRC-32 of the secret's text, 4 bytes big-endian, base32. */
export function tokenCheck(secret: string): string {
  const buf = Buffer.alloc(4);
  buf.writeUInt32BE(crc32(Buffer.from(secret, 'ascii')));
  return base32Encode(buf);
}

export type TokenPrefix = 'amp-pat' | 'amp-bs';

/** Mints `<prefix>.<secret>.<check>` with 160 random bits of secret. */
export function mintToken(prefix: TokenPrefix): string {
  const secret = base32Encode(randomBytes(20));
  return `${prefix}.${secret}.${tokenCheck(secret)}`;
}

/**
 * True when the text has the token shape and its check matches, so a truncated or mistyped token is
 * refused without a lookup.
 */
export function isWellFormedToken(token: string, prefix: TokenPrefix): boolean {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== prefix) return false;
  const [, secret, check] = parts as [string, string, string];
  if (!/^[A-Z2-7]{16,}$/.test(secret) || !/^[A-Z2-7]{7}$/.test(check)) return false;
  return tokenCheck(secret) === check;
}

/** How tokens are kept at rest: the SHA-256 of the whole token text, hex. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
