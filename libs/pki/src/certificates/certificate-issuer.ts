import { Inject, Injectable } from '@nestjs/common';
import { randomUUID, webcrypto } from 'node:crypto';
import { EntityManager } from 'typeorm';
import * as x509 from '@peculiar/x509';
import { AMPORA_CONFIG, AmporaConfig, Clock, Metrics, TenantLabels } from '@ampora/platform';
import { acceptablePublicKey, LIFETIME_DAYS, newSerialNumber, validity } from '../domain/certificate-rules';
import { SigningKeysService } from '../keys/signing-keys.service';
import type { CryptoKeyPair, WebCrypto } from '../providers/webcrypto';
import { SigningKeyEntity } from '../keys/entities/signing-key.entity';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { CertificateRepository } from './certificate.repository';
import { CertificateEntity, IssueReason, KeySource } from './entities/certificate.entity';
import { buildLeaf, sha256Hex, timed, toPem } from './x509-factory';

export interface IssueInput {
  tenantId: string;
  agentId: string | null;
  publicKey: x509.PublicKey;
  keySource: KeySource;
  reason: IssueReason;
  replacesId?: string | null;
  /** Tests and special cases: an explicit validity instead of 365 days from now. */
  validity?: { notBefore: Date; notAfter: Date };
  /** The certificate is offered to the agent in connection settings: recorded with the row itself. */
  offer?: Pick<CertificateEntity, 'offeredAt' | 'offerEndpoint' | 'offerSettingsHash'>;
}

export interface Issued {
  row: CertificateEntity;
  certificatePem: string;
  caCertificatePem: string;
  signingKey: SigningKeyEntity;
}

/** Parses and checks a PEM PKCS#10 request: its signature, and a key type Ampora accepts. */
export async function parseCsr(pem: string | Uint8Array): Promise<x509.Pkcs10CertificateRequest> {
  const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('utf8');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(text.trim());
  } catch {
    throw new PkiException(PkiErrorCode.INVALID_CSR, 'The CSR is not a PEM PKCS#10 certificate request');
  }
  let signed = false;
  try {
    signed = await csr.verify(webcrypto as WebCrypto);
  } catch {
    signed = false;
  }
  if (!signed) throw new PkiException(PkiErrorCode.INVALID_CSR, 'The CSR\'s signature does not verify with its own public key');
  let algorithm: { name: string; namedCurve?: string; modulusLength?: number };
  try {
    algorithm = (await csr.publicKey.export(webcrypto as WebCrypto)).algorithm as typeof algorithm;
  } catch {
    algorithm = { name: csr.publicKey.algorithm.name };
  }
  const problem = acceptablePublicKey(algorithm);
  if (problem) throw new PkiException(PkiErrorCode.INVALID_CSR, `The CSR's key is refused: ${problem}`);
  return csr;
}

/**
 * Signs agent leaves with the Active key: 365 days (never beyond the CA), clientAuth, the CRL
 * distribution point and the OCSP responder URL, and the tenant and agent as URIs in the SAN. Only the
 * certificate is stored; a private key made by the server is handed back to the caller and forgotten.
 */
@Injectable()
export class CertificateIssuer {
  constructor(
    private readonly clock: Clock,
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeysService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async issue(manager: EntityManager, input: IssueInput): Promise<Issued> {
    const signingKey = await this.keys.active(manager);
    const signer = await this.keys.signerOf(signingKey);
    const id = randomUUID();
    const now = this.clock.now();
    const window = input.validity ?? validity(now, LIFETIME_DAYS.agent, signingKey.notAfter);
    // the tenant's name from memory (no query inside the caller's transaction)
    const tenantName = TenantLabels.of(input.tenantId);
    const subject = new x509.Name([{ CN: [input.agentId ?? `certificate-${id}`] }, ...(tenantName !== 'none' ? [{ O: [tenantName] }] : [])]);
    const uris = [`urn:ampora:tenant:${input.tenantId}`, `urn:ampora:certificate:${id}`, ...(input.agentId ? [`urn:ampora:agent:${input.agentId}`] : [])];
    const serialNumber = newSerialNumber();
    const issuerCertificate = new x509.X509Certificate(signingKey.certificate);
    let certificate: x509.X509Certificate;
    try {
      certificate = await timed(
        () =>
          buildLeaf(signer, {
            publicKey: input.publicKey,
            subject,
            serialNumber,
            notBefore: window.notBefore,
            notAfter: window.notAfter,
            issuer: issuerCertificate,
            issuerKeyId: signingKey.keyId,
            usage: 'client',
            crlUrl: this.config.pki.crlUrl,
            ocspUrl: this.config.pki.ocspUrl,
            uris,
          }),
        (s) => Metrics.record('ampora_pki_signing_duration_seconds', s, { tenant: TenantLabels.of(input.tenantId), provider: signer.provider }),
      );
    } catch (error) {
      throw new PkiException(PkiErrorCode.SIGNING_FAILED, `The ${signer.provider} signing provider failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const der = Buffer.from(certificate.rawData);
    const row = await this.certificates.insert(manager, {
      id,
      tenantId: input.tenantId,
      agentId: input.agentId,
      kind: 'agent',
      signingKeyId: signingKey.id,
      serialNumber,
      fingerprint: sha256Hex(der),
      subject: certificate.subject,
      keySource: input.keySource,
      reason: input.reason,
      certificate: der,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      replacesId: input.replacesId ?? null,
      ...input.offer,
    });
    return { row, certificatePem: toPem(der), caCertificatePem: toPem(signingKey.certificate), signingKey };
  }

  /** A fresh ECDSA P-256 key pair for an agent that does not send a CSR; the private key as PKCS#8 PEM. */
  async agentKeyPair(): Promise<{ publicKey: x509.PublicKey; privateKeyPem: string }> {
    const pair = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const spki = await webcrypto.subtle.exportKey('spki', pair.publicKey);
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', pair.privateKey);
    return { publicKey: new x509.PublicKey(spki), privateKeyPem: toPem(pkcs8, 'PRIVATE KEY') };
  }

  /** What the audit log keeps of an issued certificate. */
  static auditView(row: CertificateEntity): Record<string, unknown> {
    return {
      agentId: row.agentId,
      serialNumber: row.serialNumber,
      fingerprint: row.fingerprint,
      subject: row.subject,
      signingKeyId: row.signingKeyId,
      keySource: row.keySource,
      notBefore: row.notBefore.toISOString(),
      notAfter: row.notAfter.toISOString(),
    };
  }
}

