import { base32Encode, crc32, hashToken, isWellFormedToken, mintToken, tokenCheck } from './token-format';

describe('token format', () => {
  it.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('base32 of %j is %j (RFC 4648 vectors, no padding)', (input, expected) => {
    expect(base32Encode(Buffer.from(input, 'ascii'))).toBe(expected);
  });

  it('computes the IEEE CRC-32 check value', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });

  it('mints tokens whose check is the base32 CRC-32 of the secret text, big-endian', () => {
    const token = mintToken('amp-pat');
    const [prefix, secret, check] = token.split('.');
    expect(prefix).toBe('amp-pat');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const be = Buffer.alloc(4);
    be.writeUInt32BE(crc32(Buffer.from(secret!, 'ascii')));
    expect(check).toBe(base32Encode(be));
    expect(tokenCheck(secret!)).toBe(check);
    expect(isWellFormedToken(token, 'amp-pat')).toBe(true);
  });

  it('refuses truncated, garbled and wrongly prefixed tokens without a lookup', () => {
    const token = mintToken('amp-bs');
    expect(isWellFormedToken(token, 'amp-bs')).toBe(true);
    expect(isWellFormedToken(token.slice(0, -1), 'amp-bs')).toBe(false);
    const parts = token.split('.');
    const secret = parts[1]!;
    const flipped = secret[0] === 'A' ? `B${secret.slice(1)}` : `A${secret.slice(1)}`;
    expect(isWellFormedToken(`amp-bs.${flipped}.${parts[2]}`, 'amp-bs')).toBe(false);
    expect(isWellFormedToken(`amp-bs.${secret.slice(0, 20)}.${parts[2]}`, 'amp-bs')).toBe(false);
    expect(isWellFormedToken(token, 'amp-pat')).toBe(false);
    expect(isWellFormedToken('amp-bs..', 'amp-bs')).toBe(false);
    expect(isWellFormedToken(token.toLowerCase(), 'amp-bs')).toBe(false);
  });

  it('mints distinct tokens and hashes them with SHA-256', () => {
    const a = mintToken('amp-pat');
    const b = mintToken('amp-pat');
    expect(a).not.toBe(b);
    expect(hashToken(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(a)).not.toBe(hashToken(b));
  });
});
