import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { Clock, Metrics, TenantLabels, Tx } from '@ampora/platform';
import { LIFETIME_DAYS, newSerialNumber, validity } from '../domain/certificate-rules';
import { SigningKeysService } from '../keys/signing-keys.service';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { CertificateIssuer } from './certificate-issuer';
import { CertificateRepository } from './certificate.repository';
import { buildLeaf, sha256Hex, toPem } from './x509-factory';

/** A federation certificate just issued: the private key is only in this value (the caller keeps it). */
export interface IssuedFederationCertificate {
  id: string;
  subject: string;
  fingerprint: string;
  serialNumber: string;
  certificatePem: string;
  privateKeyPem: string;
  caCertificatePem: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Federation client certificates (spec §7.2, decision 0310): a deployment's identity towards its peers,
 * signed by the Active CA key, 90 days, the subject chosen by the Admin, clientAuth and serverAuth (the
 * same certificate is presented by the outbound client and by the federation listener). Recorded in
 * pki_certificates with kind `federation`; the key pair is made here and handed back once.
 */
@Injectable()
export class FederationCertificates {
  constructor(
    private readonly clock: Clock,
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeysService,
    private readonly issuer: CertificateIssuer,
  ) {}

  async issue(tx: Tx, tenantId: string, subject: string): Promise<IssuedFederationCertificate> {
    const signingKey = await this.keys.active(tx.manager);
    const signer = await this.keys.signerOf(signingKey);
    const { publicKey, privateKeyPem } = await this.issuer.agentKeyPair();
    const id = randomUUID();
    const window = validity(this.clock.now(), LIFETIME_DAYS.federation, signingKey.notAfter);
    const serialNumber = newSerialNumber();
    let certificate: x509.X509Certificate;
    try {
      certificate = await buildLeaf(signer, {
        publicKey,
        subject: new x509.Name([{ CN: [subject] }]),
        serialNumber,
        notBefore: window.notBefore,
        notAfter: window.notAfter,
        issuer: new x509.X509Certificate(signingKey.certificate),
        issuerKeyId: signingKey.keyId,
        usage: 'federation',
        uris: [`urn:ampora:tenant:${tenantId}`, `urn:ampora:certificate:${id}`],
      });
    } catch (error) {
      throw new PkiException(PkiErrorCode.SIGNING_FAILED, `The ${signer.provider} signing provider failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const der = Buffer.from(certificate.rawData);
    const row = await this.certificates.insert(tx.manager, {
      id,
      tenantId,
      agentId: null,
      kind: 'federation',
      signingKeyId: signingKey.id,
      serialNumber,
      fingerprint: sha256Hex(der),
      subject: certificate.subject,
      keySource: 'server',
      reason: 'api',
      certificate: der,
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      replacesId: null,
    });
    tx.afterCommit(() => Metrics.add('ampora_pki_certs_issued_total', 1, { tenant: TenantLabels.of(tenantId), kind: 'federation' }));
    return {
      id,
      subject: row.subject,
      fingerprint: row.fingerprint,
      serialNumber,
      certificatePem: toPem(der),
      privateKeyPem,
      caCertificatePem: toPem(signingKey.certificate),
      notBefore: window.notBefore,
      notAfter: window.notAfter,
    };
  }

  /** The PEM of the Active CA certificate (the trust bundle a peer is given for this deployment's agents). */
  async caBundlePem(tx?: Tx): Promise<string> {
    const key = await this.keys.active(tx?.manager);
    return toPem(key.certificate);
  }
}
