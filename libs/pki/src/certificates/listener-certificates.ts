import { Injectable } from '@nestjs/common';
import * as x509 from '@peculiar/x509';
import { Clock, createLogger } from '@ampora/platform';
import type { ListenerCertificate, ListenerCertificateIssuer } from '@ampora/opamp';
import { newSerialNumber, validity } from '../domain/certificate-rules';
import { SigningKeysService } from '../keys/signing-keys.service';
import { CertificateIssuer } from './certificate-issuer';
import { buildLeaf, toPem } from './x509-factory';

/** How long the TLS listener's own certificate lives; it is renewed in memory at half its life. */
const LISTENER_LIFETIME_DAYS = 30;

/**
 * The TLS listener's server certificate when the operator gives none (decision 0120): signed by the
 * Active CA key for the configured host names, its key made here and kept in memory only. It is not
 * an agent certificate: it is not stored, listed or revocable, and a new one is made at each start.
 */
@Injectable()
export class ListenerCertificates implements ListenerCertificateIssuer {
  private readonly log = createLogger('Ampora.Pki.Certificates.ListenerCertificates');

  constructor(
    private readonly clock: Clock,
    private readonly keys: SigningKeysService,
    private readonly issuer: CertificateIssuer,
  ) {}

  async issueListenerCertificate(hostnames: string[]): Promise<ListenerCertificate> {
    // the listener may start before the PKI's own bootstrap made the first CA key
    await this.keys.ensureCa();
    const key = await this.keys.active();
    const signer = await this.keys.signerOf(key);
    const pair = await this.issuer.agentKeyPair();
    const window = validity(this.clock.now(), LISTENER_LIFETIME_DAYS, key.notAfter);
    const certificate = await buildLeaf(signer, {
      publicKey: pair.publicKey,
      subject: new x509.Name([{ CN: [hostnames[0] ?? 'ampora-opamp'] }]),
      serialNumber: newSerialNumber(),
      notBefore: window.notBefore,
      notAfter: window.notAfter,
      issuer: new x509.X509Certificate(key.certificate),
      issuerKeyId: key.keyId,
      usage: 'server',
      hostnames,
    });
    this.log.debug('Issued the TLS listener\'s certificate with signing key {SigningKeyId}', { SigningKeyId: key.id });
    return { certPem: toPem(certificate.rawData), keyPem: pair.privateKeyPem, caPem: toPem(key.certificate), notAfter: window.notAfter };
  }
}
