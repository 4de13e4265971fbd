import { X509Certificate } from 'node:crypto';
import { normaliseThumbprint, thumbprint } from './secrets';

/** Peer names: lower-case DNS-label style (they appear in agent ids `peer:<name>/<id>`). */
export const PEER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why an endpoint cannot be a peer's, or undefined: https only, no credentials, no query or fragment. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'the endpoint is not a URL';
  }
  if (url.protocol !== 'https:') return 'the endpoint must be https:// (the federation listener)';
  if (url.username || url.password) return 'the endpoint must not carry credentials';
  if (url.search || url.hash) return 'the endpoint must not have a query or fragment';
  return undefined;
}

/**
 * The thumbprint to pin from what the Admin gave: the remote's certificate PEM (its SHA-256), a
 * thumbprint, or both (then they must agree).
 */
export function pinFrom(input: { remoteCertificatePem?: string; pinnedThumbprint?: string }): { thumbprint: string } | { problem: string } {
  let fromPem: string | undefined;
  if (input.remoteCertificatePem) {
    try {
      fromPem = thumbprint(new X509Certificate(input.remoteCertificatePem).raw);
    } catch {
      return { problem: 'remoteCertificatePem is not a PEM certificate' };
    }
  }
  const given = input.pinnedThumbprint === undefined ? undefined : normaliseThumbprint(input.pinnedThumbprint);
  if (input.pinnedThumbprint !== undefined && !given) return { problem: 'pinnedThumbprint is not a SHA-256 thumbprint (64 hex digits)' };
  if (fromPem && given && fromPem !== given) return { problem: 'pinnedThumbprint is not the thumbprint of remoteCertificatePem' };
  const pin = fromPem ?? given;
  return pin ? { thumbprint: pin } : { problem: 'give the remote\'s certificate (remoteCertificatePem) or its SHA-256 thumbprint' };
}
