import { Injectable } from '@nestjs/common';
import * as x509 from '@peculiar/x509';
import { Span } from 'nestjs-otel';
import { Clock, createLogger, Metrics, TenantLabels, TransactionRunner } from '@ampora/platform';
import { CRL_NEXT_UPDATE_MS, REVOCATION_REASONS } from '../domain/certificate-rules';
import { buildCrl, timed, toPem } from '../certificates/x509-factory';
import { CertificateRepository } from '../certificates/certificate.repository';
import { SigningKeyRepository } from '../keys/signing-key.repository';
import { SigningKeysService } from '../keys/signing-keys.service';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { CrlRepository } from './crl.repository';

/** How long the HTTP side keeps the stored CRLs and the trust bundle in memory. */
const SERVE_CACHE_MS = 10_000;

interface Published {
  /** DER of the Active key's CRL. */
  activeDer?: Buffer;
  /** PEM of every published key's CRL. */
  pem: string;
  trustBundle: string;
  at: number;
}

/**
 * Signs a CRL per Active and Trusted key (the worker's job: every 15 minutes, nextUpdate 15 minutes,
 * and right after a revocation) and serves the stored bytes (re-read at most every 10 seconds).
 */
@Injectable()
export class CrlService {
  private readonly log = createLogger('Ampora.Pki.Revocation.CrlService');
  private served?: Published;

  constructor(
    private readonly clock: Clock,
    private readonly crls: CrlRepository,
    private readonly certificates: CertificateRepository,
    private readonly keyRows: SigningKeyRepository,
    private readonly keys: SigningKeysService,
    private readonly tx: TransactionRunner,
  ) {
    keys.onChange(() => this.invalidate());
  }

  // a service-level span through nestjs-otel's decorator: the CRL job's `queue.process` span is its parent
  @Span('pki.crl_publish')
  async publishAll(now = this.clock.now()): Promise<number> {
    let published = 0;
    for (const key of await this.keys.published()) {
      const started = process.hrtime.bigint();
      const signer = await this.keys.signerOf(key);
      await this.tx.run(async ({ manager }) => {
        const crlNumber = await this.keyRows.nextCrlNumber(manager, key.id);
        const revoked = await this.certificates.revokedForKey(key.id, now, manager);
        const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
        const nextUpdate = new Date(thisUpdate.getTime() + CRL_NEXT_UPDATE_MS);
        const crl = await timed(
          () =>
            buildCrl(signer, {
              issuer: new x509.X509Certificate(key.certificate),
              issuerKeyId: key.keyId,
              crlNumber,
              thisUpdate,
              nextUpdate,
              entries: revoked.map((r) => ({ serialNumber: r.serialNumber, revokedAt: r.revokedAt!, reason: REVOCATION_REASONS[(r.revocationReason ?? 'unspecified') as keyof typeof REVOCATION_REASONS] ?? 0 })),
            }),
          (s) => Metrics.record('ampora_pki_signing_duration_seconds', s, { tenant: TenantLabels.of(undefined), provider: signer.provider }),
        );
        await this.crls.save(manager, { signingKeyId: key.id, crlNumber: crlNumber.toString(), thisUpdate, nextUpdate, entries: revoked.length, der: Buffer.from(crl.rawData) });
        this.log.debug('Published CRL {CrlNumber} of key {SigningKeyId} with {Entries} entries', { CrlNumber: crlNumber.toString(), SigningKeyId: key.id, Entries: revoked.length });
      });
      Metrics.record('ampora_pki_crl_publish_duration_seconds', Number(process.hrtime.bigint() - started) / 1e9, { tenant: TenantLabels.of(undefined) });
      published++;
    }
    this.served = undefined;
    return published;
  }

  async crlDer(): Promise<Buffer> {
    const p = await this.current();
    if (!p.activeDer) throw new PkiException(PkiErrorCode.CRL_NOT_PUBLISHED, 'No CRL has been published yet; the worker publishes one within 15 minutes of start-up');
    return p.activeDer;
  }

  async crlPem(): Promise<string> {
    const p = await this.current();
    if (!p.pem) throw new PkiException(PkiErrorCode.CRL_NOT_PUBLISHED, 'No CRL has been published yet; the worker publishes one within 15 minutes of start-up');
    return p.pem;
  }

  async trustBundle(): Promise<string> {
    const p = await this.current();
    if (!p.trustBundle) throw new PkiException(PkiErrorCode.NO_ACTIVE_SIGNING_KEY, 'Ampora\'s CA has no Active or Trusted key');
    return p.trustBundle;
  }

  /** Forget what is served (a key changed in this process). */
  invalidate(): void {
    this.served = undefined;
  }

  private async current(): Promise<Published> {
    // host time: the age of what is served from memory, not the domain's time (decision 0220)
    if (this.served && Date.now() - this.served.at < SERVE_CACHE_MS) return this.served;
    const keys = await this.keys.published();
    const crls = await this.crls.findForKeys(keys.map((k) => k.id));
    const byKey = new Map(crls.map((c) => [c.signingKeyId, c]));
    const active = keys.find((k) => k.state === 'Active');
    const ordered = [...(active ? [active] : []), ...keys.filter((k) => k !== active)];
    this.served = {
      activeDer: active ? byKey.get(active.id)?.der : undefined,
      pem: ordered.map((k) => byKey.get(k.id)).filter((c) => c !== undefined).map((c) => toPem(c.der, 'X509 CRL')).join(''),
      trustBundle: ordered.map((k) => toPem(k.certificate)).join(''),
      at: Date.now(),
    };
    return this.served;
  }
}

