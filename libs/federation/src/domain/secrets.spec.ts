import { newSecret, normaliseThumbprint, parseSecret, secretHash, secretMatches } from './secrets';

describe('federation secrets', () => {
  it('are 32 random bytes, matched against their stored hash only when equal', () => {
    const s = newSecret();
    expect(parseSecret(s)).toHaveLength(32);
    expect(newSecret()).not.toBe(s);
    expect(secretMatches(s, secretHash(s))).toBe(true);
    expect(secretMatches(newSecret(), secretHash(s))).toBe(false);
    expect(secretMatches(s, 'ab')).toBe(false);
  });

  it('refuses secrets that are not 32 bytes and normalises pasted thumbprints', () => {
    expect(parseSecret('short')).toBeUndefined();
    expect(parseSecret(Buffer.alloc(31).toString('base64url'))).toBeUndefined();
    expect(parseSecret(Buffer.alloc(32, 1).toString('base64'))).toHaveLength(32);
    expect(normaliseThumbprint('AB:'.repeat(31) + 'AB')).toBe('ab'.repeat(32));
    expect(normaliseThumbprint('xyz')).toBeUndefined();
  });
});
