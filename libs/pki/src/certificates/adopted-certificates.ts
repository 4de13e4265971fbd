import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import { Clock } from '@ampora/platform';
import { inValidityWindow } from '../domain/certificate-rules';
import { AdoptedCertificateEntity } from './entities/adopted-certificate.entity';

export interface AdoptInput {
  tenantId: string;
  agentId: string;
  certificatePem: string;
  /** The CA certificate that issued it (the source deployment's). */
  issuerCaPem: string;
  source: string;
}

/** Why a leaf cannot be adopted, or its fingerprint: it must be in date and signed by the CA given. */
export function adoptionProblem(certificatePem: string, issuerCaPem: string, now: Date): { fingerprint: string; notBefore: Date; notAfter: Date } | { problem: string } {
  let leaf: X509Certificate;
  let ca: X509Certificate;
  try {
    leaf = new X509Certificate(certificatePem);
    ca = new X509Certificate(issuerCaPem);
  } catch {
    return { problem: 'the certificate or its CA is not a readable PEM certificate' };
  }
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return { problem: 'the certificate was not signed by the CA given' };
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (!inValidityWindow(notBefore, notAfter, now)) return { problem: 'the certificate is not in date' };
  return { fingerprint: createHash('sha256').update(leaf.raw).digest('hex'), notBefore, notAfter };
}

/**
 * Leaves another deployment's CA issued to agents handed over here (decision 0371): each trusted on
 * its own, by fingerprint, with its signature checked against the CA the handover carried. The TLS
 * listener's verifier and the agent ↔ certificate binding read them after PKI's own certificates.
 */
@Injectable()
export class AdoptedCertificates {
  constructor(
    private readonly clock: Clock,
    @InjectRepository(AdoptedCertificateEntity) private readonly repo: Repository<AdoptedCertificateEntity>,
  ) {}

  /** Trusts `certificatePem` for agent `agentId` (in the caller's transaction); throws when it cannot be. */
  async adopt(manager: unknown, input: AdoptInput): Promise<{ fingerprint: string }> {
    const checked = adoptionProblem(input.certificatePem, input.issuerCaPem, this.clock.now());
    if ('problem' in checked) throw new Error(checked.problem);
    await (manager as EntityManager).getRepository(AdoptedCertificateEntity).insert({
      id: randomUUID(),
      tenantId: input.tenantId,
      agentId: input.agentId,
      fingerprint: checked.fingerprint,
      certificatePem: input.certificatePem,
      issuerCaPem: input.issuerCaPem,
      source: input.source,
      notBefore: checked.notBefore,
      notAfter: checked.notAfter,
      revokedAt: null,
      createdAt: this.clock.now(),
    });
    return { fingerprint: checked.fingerprint };
  }

  findByFingerprint(fingerprint: string): Promise<AdoptedCertificateEntity | null> {
    return this.repo.findOne({ where: { fingerprint } });
  }

  /** The verifier's answer for an adopted leaf presented on the TLS listener. */
  async verify(der: Buffer, row: AdoptedCertificateEntity): Promise<{ ok: true } | { ok: false; reason: string }> {
    if (row.revokedAt) return { ok: false, reason: `revoked at ${row.revokedAt.toISOString()}` };
    if (!inValidityWindow(row.notBefore, row.notAfter, this.clock.now())) return { ok: false, reason: 'expired' };
    try {
      return new X509Certificate(der).verify(new X509Certificate(row.issuerCaPem).publicKey) ? { ok: true } : { ok: false, reason: 'its signature does not verify with the CA it was handed over with' };
    } catch {
      return { ok: false, reason: 'its signature does not verify with the CA it was handed over with' };
    }
  }
}
