import { canActivate, canRetire, isTrusted, trustWindowOver } from './key-lifecycle';
import { acceptablePublicKey, newSerialNumber, renewalDue, validity } from './certificate-rules';

describe('signing key lifecycle', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const later = new Date('2026-12-25T12:00:00Z');

  it('activates only Draft keys', () => {
    expect(canActivate({ state: 'Draft', trustedUntil: null })).toEqual({ ok: true });
    expect(canActivate({ state: 'Active', trustedUntil: null })).toMatchObject({ ok: false, code: 'SIGNING_KEY_NOT_DRAFT' });
    expect(canActivate({ state: 'Trusted', trustedUntil: later })).toMatchObject({ ok: false, code: 'SIGNING_KEY_NOT_DRAFT' });
    expect(canActivate({ state: 'Retired', trustedUntil: null })).toMatchObject({ ok: false, code: 'SIGNING_KEY_RETIRED' });
  });

  it('retires Draft and Trusted keys, never the Active one', () => {
    expect(canRetire({ state: 'Draft', trustedUntil: null })).toEqual({ ok: true });
    expect(canRetire({ state: 'Trusted', trustedUntil: later })).toEqual({ ok: true });
    expect(canRetire({ state: 'Active', trustedUntil: null })).toMatchObject({ ok: false, code: 'SIGNING_KEY_ACTIVE' });
    expect(canRetire({ state: 'Retired', trustedUntil: null })).toMatchObject({ ok: false, code: 'SIGNING_KEY_RETIRED' });
  });

  it('trusts Active keys and Trusted keys inside their window only', () => {
    expect(isTrusted({ state: 'Active', trustedUntil: null }, now)).toBe(true);
    expect(isTrusted({ state: 'Trusted', trustedUntil: later }, now)).toBe(true);
    expect(isTrusted({ state: 'Trusted', trustedUntil: now }, now)).toBe(false);
    expect(isTrusted({ state: 'Draft', trustedUntil: null }, now)).toBe(false);
    expect(isTrusted({ state: 'Retired', trustedUntil: later }, now)).toBe(false);
    expect(trustWindowOver({ state: 'Trusted', trustedUntil: now }, now)).toBe(true);
    expect(trustWindowOver({ state: 'Trusted', trustedUntil: later }, now)).toBe(false);
  });
});

describe('certificate rules', () => {
  const now = new Date('2026-11-25T12:00:00Z');

  it('never issues beyond the issuer and backdates a little', () => {
    const far = new Date('2036-01-01T00:00:00Z');
    const v = validity(now, 365, far);
    expect(v.notAfter.toISOString()).toBe('2027-11-25T12:00:00.000Z');
    expect(v.notBefore.getTime()).toBeLessThan(now.getTime());
    const soon = new Date('2027-01-01T00:00:00Z');
    expect(validity(now, 365, soon).notAfter).toEqual(soon);
  });

  it('renews inside the threshold only', () => {
    expect(renewalDue(new Date('2026-12-20T12:00:00Z'), now, 30)).toBe(true);
    expect(renewalDue(new Date('2027-02-20T12:00:00Z'), now, 30)).toBe(false);
  });

  it('makes positive 16-byte serials that differ', () => {
    const a = newSerialNumber();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(parseInt(a.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(newSerialNumber()).not.toBe(a);
  });

  it('accepts RSA ≥ 2048 and P-256/P-384 keys only', () => {
    expect(acceptablePublicKey({ name: 'ECDSA', namedCurve: 'P-256' })).toBeUndefined();
    expect(acceptablePublicKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 3072 })).toBeUndefined();
    expect(acceptablePublicKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024 })).toMatch(/2048/);
    expect(acceptablePublicKey({ name: 'ECDSA', namedCurve: 'P-521' })).toMatch(/P-521/);
    expect(acceptablePublicKey({ name: 'Ed25519' })).toMatch(/not accepted/);
  });
});
