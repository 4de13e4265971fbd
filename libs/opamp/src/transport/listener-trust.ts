import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';

/** The PEM certificate blocks of a file, in order. */
export function pemCertificates(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((b) => `${b}\n`) ?? [];
}

/**
 * What an agent needs to verify the TLS listener's certificate when it trusts nothing else (the
 * OpAMP Supervisor verifies the server against the offer's `ca_cert` only; decision 0120): the
 * operator's CA file, or else the certificates that follow the leaf in the listener's certificate
 * file. Checked here: the leaf must chain (through the file's intermediates) to one of them, the way
 * Go accepts any certificate of its root pool as an anchor.
 */
export function listenerTrust(certFilePem: string, caFilePem?: string): { trustPem: string } | { problem: string } {
  const blocks = pemCertificates(certFilePem);
  if (blocks.length === 0) return { problem: 'the listener\'s certificate file holds no PEM certificate' };
  const anchors = pemCertificates(caFilePem ?? '').concat(caFilePem ? [] : blocks.slice(1));
  if (anchors.length === 0) return { problem: 'the listener\'s certificate file holds only its leaf: set AMPORA_OPAMP_TLS_CA_FILE to the CA that issued it' };
  let leaf: X509Certificate;
  let anchorCerts: X509Certificate[];
  let chain: X509Certificate[];
  try {
    leaf = new X509Certificate(blocks[0]!);
    anchorCerts = anchors.map((a) => new X509Certificate(a));
    chain = blocks.slice(1).map((b) => new X509Certificate(b));
  } catch {
    return { problem: 'the listener\'s certificate or CA file holds an unreadable certificate' };
  }
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (anchorCerts.some((a) => a.fingerprint256 === current.fingerprint256)) return { trustPem: anchors.join('') };
    if (anchorCerts.some((a) => signedBy(current, a))) return { trustPem: anchors.join('') };
    const next = chain.find((c) => c.fingerprint256 !== current.fingerprint256 && signedBy(current, c));
    if (!next) break;
    current = next;
  }
  return { problem: 'the listener\'s certificate does not chain to AMPORA_OPAMP_TLS_CA_FILE (nor to the certificates after the leaf in its file)' };
}

function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return child.checkIssued(issuer) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

/** Whether the listener's certificate is valid for `host` (a DNS name or an IP address). */
export function certificateCovers(leaf: X509Certificate, host: string): boolean {
  try {
    return isIP(host) ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
  } catch {
    return false;
  }
}

/** The host name of a Host header (`name:port`, `[v6]:port`), or undefined. */
export function hostOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  try {
    const name = new URL(`http://${header}`).hostname;
    return name.replace(/^\[|\]$/g, '') || undefined;
  } catch {
    return undefined;
  }
}
