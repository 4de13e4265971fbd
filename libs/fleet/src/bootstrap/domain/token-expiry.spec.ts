import { bootstrapTokenExpired, bootstrapTokenExpiry } from './token-expiry';

describe('bootstrap token expiry', () => {
  it('expires at its expiry instant, not a millisecond before', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const expiresAt = bootstrapTokenExpiry(now, 60);
    expect(expiresAt.toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(bootstrapTokenExpired({ expiresAt }, expiresAt.getTime() - 1)).toBe(false);
    expect(bootstrapTokenExpired({ expiresAt }, expiresAt.getTime())).toBe(true);
  });
});
