import { createHash, KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';

/**
 * Handover tokens (issue 19 item 5, decision 0371), the pure part: what the source signs with its
 * Active CA key, and the target's checks before it creates the agent. `amp-ho.<payload>.<signature>`,
 * both base64url; the payload is JSON.
 */

export const HANDOVER_TTL_MS = 3600_000;
const PREFIX = 'amp-ho';

export interface HandoverPayload {
  v: 1;
  /** The token's id: redeemed once. */
  jti: string;
  iat: number;
  exp: number;
  /** The thumbprint of the target's federation certificate (the pin the source holds): the one deployment that may redeem it. */
  aud: string;
  /** The source's Active CA certificate (PEM): verifies the signature, and must have issued the caller's federation certificate. */
  sourceCaPem: string;
  agent: {
    id: string;
    instanceUid: string;
    displayName: string;
    capabilities: string;
    /** SHA-256 of the agent's current leaf: the only certificate the target will accept for it. */
    fingerprint: string;
    certificatePem: string;
    /** The CA certificate that issued the leaf (PEM). */
    issuerCaPem: string;
    groupName: string | null;
    assignment: { configurationName: string; contentHash: string } | null;
  };
  target: {
    /** The peer's name on the source side. */
    peer: string;
    /** The target's OpAMP endpoint for certificate agents, and the certificates that verify it. */
    endpoint: string;
    trustBundlePem: string;
  };
}

const b64 = (b: Buffer) => b.toString('base64url');

/** The bytes the source signs. */
export function signedPart(payload: HandoverPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

export function encodeToken(payload: HandoverPayload, signature: Buffer): string {
  return `${PREFIX}.${b64(signedPart(payload))}.${b64(signature)}`;
}

export type TokenProblem = 'malformed' | 'signature' | 'issuer' | 'audience' | 'expired' | 'leaf';

/** Verifies a signature by a CA certificate's key: RSASSA-PKCS1-v1_5 SHA-256, or ECDSA SHA-256 as r‖s (WebCrypto's form). */
export function verifiesWith(caPem: string, data: Buffer, signature: Buffer): boolean {
  try {
    const key: KeyObject = new X509Certificate(caPem).publicKey;
    return key.asymmetricKeyType === 'ec' ? verifySignature('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature) : verifySignature('sha256', data, key, signature);
  } catch {
    return false;
  }
}

function issuedBy(child: X509Certificate, caPem: string): boolean {
  try {
    const ca = new X509Certificate(caPem);
    return child.checkIssued(ca) && child.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/**
 * The target's checks, in order: the token's form; the signature by the CA it names; that CA issued
 * the federation certificate the caller presented (so the token comes from the paired peer's CA); the
 * token is for this deployment; it is in date (and no longer-lived than the TTL); the leaf is the one
 * named, issued by the CA named.
 */
export function verifyToken(token: string, context: { now: number; callerCertificateDer: Buffer; ownThumbprint: string }): { payload: HandoverPayload } | { problem: TokenProblem; detail: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return { problem: 'malformed', detail: 'not a handover token' };
  const data = Buffer.from(parts[1]!, 'base64url');
  let payload: HandoverPayload;
  try {
    payload = JSON.parse(data.toString('utf8')) as HandoverPayload;
  } catch {
    return { problem: 'malformed', detail: 'the payload is not JSON' };
  }
  if (payload?.v !== 1 || typeof payload.jti !== 'string' || typeof payload.sourceCaPem !== 'string' || typeof payload.agent?.certificatePem !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') {
    return { problem: 'malformed', detail: 'the payload lacks fields' };
  }
  if (!verifiesWith(payload.sourceCaPem, data, Buffer.from(parts[2]!, 'base64url'))) return { problem: 'signature', detail: 'the signature does not verify with the source CA' };
  if (!issuedBy(new X509Certificate(context.callerCertificateDer), payload.sourceCaPem)) return { problem: 'issuer', detail: 'the source CA did not issue the calling peer\'s federation certificate' };
  if (payload.aud !== context.ownThumbprint) return { problem: 'audience', detail: 'the token is for another deployment' };
  if (payload.exp <= context.now || payload.exp - payload.iat > HANDOVER_TTL_MS) return { problem: 'expired', detail: `the token expired at ${new Date(payload.exp).toISOString()}` };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(payload.agent.certificatePem);
  } catch {
    return { problem: 'leaf', detail: 'the agent certificate is unreadable' };
  }
  if (createHash('sha256').update(leaf.raw).digest('hex') !== payload.agent.fingerprint) return { problem: 'leaf', detail: 'the agent certificate is not the one the token is pinned to' };
  if (!issuedBy(leaf, payload.agent.issuerCaPem)) return { problem: 'leaf', detail: 'the agent certificate was not issued by the CA named' };
  return { payload };
}
