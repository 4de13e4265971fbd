import { createHash } from 'node:crypto';

/** What the offer rules need to know of an offered certificate. */
export interface OfferRecord {
  offeredAt: Date | null;
  firstUsedAt: Date | null;
  offerUnusableAt: Date | null;
  revokedAt: Date | null;
  revocationReason: string | null;
  offerSettingsHash: string | null;
}

export type OfferStatusName = 'pending' | 'used' | 'unusable' | 'superseded';

/**
 * The state of a certificate offer (decision 0121): used once the agent connected with it; superseded
 * when a later offer replaced it unused; unusable when it was not used within `timeoutSeconds`.
 */
export function offerStatus(r: OfferRecord, now: Date, timeoutSeconds: number): OfferStatusName {
  if (r.firstUsedAt) return 'used';
  if (r.revokedAt && r.revocationReason === 'superseded') return 'superseded';
  if (r.offerUnusableAt || !r.offeredAt || now.getTime() - r.offeredAt.getTime() > timeoutSeconds * 1000) return 'unusable';
  return 'pending';
}

/**
 * Whether a token connection may be offered a new certificate, given the agent's latest offer:
 * - no offer yet, or the last one was used (an agent that does not keep offered settings, like the
 *   OpAMP Supervisor after a restart, comes back with its token and needs a new one): yes;
 * - the last one is still pending (the agent may be on its way to the listener): no;
 * - the last one was unusable: only when the endpoint or the trust changed since (the operator fixed
 *   something); the same offer is never repeated.
 */
export function mayOfferAgain(latest: OfferRecord | undefined, settingsHash: string, now: Date, timeoutSeconds: number): boolean {
  if (!latest) return true;
  const status = offerStatus(latest, now, timeoutSeconds);
  if (status === 'used' || status === 'superseded') return true;
  if (status === 'pending') return false;
  return latest.offerSettingsHash !== settingsHash;
}

/** The hash an offer's destination and trust are remembered by. */
export function offerSettingsHash(endpoint: string, caPem: string): string {
  return createHash('sha256').update(`${endpoint}\n${caPem}`).digest('hex');
}

/** PEM bundles joined without repeating a certificate. */
export function joinPem(...bundles: Array<string | undefined>): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const bundle of bundles) {
    for (const block of bundle?.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      const key = block.replace(/\s+/g, '');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(`${block}\n`);
    }
  }
  return out.join('');
}
