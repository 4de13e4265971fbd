import { joinPem, mayOfferAgain, OfferRecord, offerSettingsHash, offerStatus } from './offer-rules';

const now = new Date('2026-12-05T12:00:00Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const offer = (patch: Partial<OfferRecord> = {}): OfferRecord => ({
  offeredAt: ago(10),
  firstUsedAt: null,
  offerUnusableAt: null,
  revokedAt: null,
  revocationReason: null,
  offerSettingsHash: offerSettingsHash('wss://a:4322/v1/opamp', 'CA'),
  ...patch,
});

describe('certificate offer rules', () => {
  it('follows an offer: pending, used, unusable after the timeout, superseded', () => {
    expect(offerStatus(offer(), now, 120)).toBe('pending');
    expect(offerStatus(offer({ offeredAt: ago(121) }), now, 120)).toBe('unusable');
    expect(offerStatus(offer({ offerUnusableAt: ago(1) }), now, 120)).toBe('unusable');
    expect(offerStatus(offer({ offeredAt: ago(500), firstUsedAt: ago(499) }), now, 120)).toBe('used');
    expect(offerStatus(offer({ revokedAt: ago(1), revocationReason: 'superseded' }), now, 120)).toBe('superseded');
  });

  it('offers again after a used offer (a restarted Supervisor), waits on a pending one, never repeats an unusable one unchanged', () => {
    const same = offerSettingsHash('wss://a:4322/v1/opamp', 'CA');
    expect(mayOfferAgain(undefined, same, now, 120)).toBe(true);
    expect(mayOfferAgain(offer({ firstUsedAt: ago(5) }), same, now, 120)).toBe(true);
    expect(mayOfferAgain(offer(), same, now, 120)).toBe(false);
    expect(mayOfferAgain(offer({ offeredAt: ago(300) }), same, now, 120)).toBe(false);
    // the operator fixed the listener's trust or the endpoint: a new offer is worth making
    expect(mayOfferAgain(offer({ offeredAt: ago(300) }), offerSettingsHash('wss://a:4322/v1/opamp', 'CA+listener CA'), now, 120)).toBe(true);
  });

  it('joins PEM bundles without repeating a certificate', () => {
    const a = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    const b = '-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n';
    expect(joinPem(a, `${b}${a}`, undefined)).toBe(`${a}${b}`);
  });
});
