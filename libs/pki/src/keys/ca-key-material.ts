import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import * as x509 from '@peculiar/x509';
import { Metrics, TenantLabels, Tx } from '@ampora/platform';
import { CaKeyAlgorithm } from '../pki.config';
import { LIFETIME_DAYS, newSerialNumber, DAY_MS, validity } from '../domain/certificate-rules';
import { buildCaCertificate, buildLeaf, keyIdOf, sha256Hex, timed } from '../certificates/x509-factory';
import { SigningProviders } from '../providers/signing-providers';
import { Signer } from '../providers/signing-provider';
import { SigningKeyEntity } from './entities/signing-key.entity';
import { SigningKeyRepository } from './signing-key.repository';

/** OCSP responder keys are always ECDSA P-256 (small, fast), in the same provider as their CA key. */
export const RESPONDER_ALGORITHM: CaKeyAlgorithm = 'ECDSA-P256';

/**
 * Makes the CA's key material in its provider: a new CA key with its self-signed certificate, and the
 * delegated OCSP responder certificates of a key. SigningKeysService decides when; this makes them.
 */
@Injectable()
export class CaKeyMaterial {
  constructor(
    private readonly keys: SigningKeyRepository,
    private readonly providers: SigningProviders,
  ) {}

  async generateCaKey(
    manager: EntityManager,
    input: { algorithm: CaKeyAlgorithm; commonName: string; createdBy: string; tenantId: string; state: 'Draft' | 'Active'; now: Date },
  ): Promise<SigningKeyEntity> {
    const id = randomUUID();
    const provider = this.providers.configured;
    const { spki, material } = await provider.generate(input.algorithm, `pki_signing_keys:${id}`);
    const { signer } = await provider.load(material, input.algorithm, `pki_signing_keys:${id}`);
    const { notBefore, notAfter } = validity(input.now, LIFETIME_DAYS.ca, new Date(input.now.getTime() + LIFETIME_DAYS.ca * DAY_MS));
    const certificate = await timed(
      () => buildCaCertificate(signer, { commonName: input.commonName, serialNumber: newSerialNumber(), notBefore, notAfter, spki }),
      (s) => Metrics.record('ampora_pki_signing_duration_seconds', s, { tenant: TenantLabels.of(input.tenantId), provider: provider.kind }),
    );
    const der = Buffer.from(certificate.rawData);
    return this.keys.insert(manager, {
      id,
      state: input.state,
      algorithm: input.algorithm,
      provider: provider.kind,
      commonName: input.commonName,
      certificate: der,
      fingerprint: sha256Hex(der),
      keyId: keyIdOf(spki),
      ...material,
      notBefore,
      notAfter,
      activatedAt: input.state === 'Active' ? input.now : null,
      createdBy: input.createdBy,
    });
  }

  /** A delegated OCSP signing certificate for `key` (90 days), its key in the same provider. */
  async issueResponder(tx: Pick<Tx, 'manager' | 'afterCommit'>, key: SigningKeyEntity, caSigner: Signer, tenantId: string, now: Date): Promise<{ serial: string; notAfter: Date }> {
    const manager = tx.manager;
    const id = randomUUID();
    const provider = this.providers.of(key.provider);
    const { spki, material } = await provider.generate(RESPONDER_ALGORITHM, `pki_ocsp_responders:${id}`);
    const { notBefore, notAfter } = validity(now, LIFETIME_DAYS.ocsp, key.notAfter);
    const serial = newSerialNumber();
    const certificate = await timed(
      () =>
        buildLeaf(caSigner, {
          publicKey: new x509.PublicKey(spki),
          subject: new x509.Name([{ CN: [`${key.commonName} OCSP Responder`] }]),
          serialNumber: serial,
          notBefore,
          notAfter,
          issuer: new x509.X509Certificate(key.certificate),
          issuerKeyId: key.keyId,
          usage: 'ocsp',
        }),
      (s) => Metrics.record('ampora_pki_signing_duration_seconds', s, { tenant: TenantLabels.of(tenantId), provider: provider.kind }),
    );
    await this.keys.insertResponder(manager, { id, signingKeyId: key.id, certificate: Buffer.from(certificate.rawData), keyId: keyIdOf(spki), ...material, notBefore, notAfter });
    tx.afterCommit(() => Metrics.add('ampora_pki_certs_issued_total', 1, { tenant: TenantLabels.of(tenantId), kind: 'ocsp' }));
    return { serial, notAfter };
  }
}
