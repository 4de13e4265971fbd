import { defineQueue } from '@ampora/platform';

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * `pki.publish-crls` signs and stores a CRL for every trusted key (every 15 minutes, and right after a
 * revocation or a key change); `pki.maintain-keys` retires keys whose trusted window ended and renews
 * OCSP responder certificates before they expire (hourly).
 */
export const PKI_QUEUE = defineQueue('pki', { publishCrls: 'pki.publish-crls', maintainKeys: 'pki.maintain-keys' }, [
  { id: 'pki.publish-crls', job: 'pki.publish-crls', everyMs: QUARTER_HOUR_MS },
  { id: 'pki.maintain-keys', job: 'pki.maintain-keys', everyMs: 4 * QUARTER_HOUR_MS },
]);
