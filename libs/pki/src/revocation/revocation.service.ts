import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AuditService, createLogger, Metrics, Principal, TenantLabels, TransactionRunner } from '@ampora/platform';
import { AgentDispatcher, DispatchOutcome } from '@ampora/opamp';
import { RevocationReason } from '../domain/certificate-rules';
import { CertificateRepository } from '../certificates/certificate.repository';
import { CertificateEntity } from '../certificates/entities/certificate.entity';
import { SigningKeysService } from '../keys/signing-keys.service';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { findAgentDispatcher } from '../agent-dispatcher.lookup';

export interface AgentRevocation {
  agentId: string;
  revoked: CertificateEntity[];
  /** What happened to the agent's live session. */
  session: DispatchOutcome;
}

/**
 * Revokes an agent's certificates at once: the TLS listener refuses them on the next handshake (it
 * reads the revocation from the database), OCSP answers `revoked` from the same row, the live session
 * is closed and a CRL is published right away.
 */
@Injectable()
export class RevocationService implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.Pki.Revocation.RevocationService');
  private dispatcher?: AgentDispatcher;

  constructor(
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeysService,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly moduleRef: ModuleRef,
  ) {}

  onApplicationBootstrap(): void {
    this.dispatcher = findAgentDispatcher(this.moduleRef);
  }

  async revokeAgent(p: Principal, agentId: string, reason: RevocationReason = 'unspecified'): Promise<AgentRevocation> {
    const revoked = await this.tx.run(async ({ manager }) => {
      const rows = await this.certificates.lockForAgent(manager, p.tenantId, agentId);
      if (rows.length === 0) throw new PkiException(PkiErrorCode.AGENT_CERTIFICATE_NOT_FOUND, `Agent ${agentId} holds no certificate of this tenant`, { agentId });
      const live = rows.filter((r) => !r.revokedAt);
      if (live.length === 0) throw new PkiException(PkiErrorCode.CERTIFICATE_ALREADY_REVOKED, `Every certificate of agent ${agentId} is already revoked`, { agentId });
      const at = new Date();
      for (const row of live) {
        await this.certificates.update(manager, row.id, { revokedAt: at, revocationReason: reason });
        row.revokedAt = at;
        row.revocationReason = reason;
      }
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: agentId,
        action: 'CertificatesRevoked',
        after: { certificates: live.map((r) => ({ id: r.id, serialNumber: r.serialNumber, fingerprint: r.fingerprint })) },
        additional: { reason },
      });
      return live;
    });
    Metrics.add('ampora_pki_certs_revoked_total', revoked.length, { tenant: TenantLabels.of(p.tenantId), kind: 'agent' });
    this.log.info('Revoked {Count} certificates of agent {AgentId} ({Reason})', { Count: revoked.length, AgentId: agentId, Reason: reason });
    const session = this.dispatcher ? await this.dispatcher.disconnect({ agentId, tenantId: p.tenantId }, 'its certificate was revoked') : 'no_session';
    await this.keys.publishSoon();
    return { agentId, revoked, session };
  }

  /**
   * Revokes one certificate (an API-signed one that was never used, say); an agent connected with it
   * is disconnected.
   */
  async revokeCertificate(p: Principal, certificateId: string, reason: RevocationReason = 'unspecified'): Promise<{ certificate: CertificateEntity; session: DispatchOutcome }> {
    const certificate = await this.tx.run(async ({ manager }) => {
      const row = await this.certificates.lockById(manager, p.tenantId, certificateId);
      if (!row) throw new PkiException(PkiErrorCode.CERTIFICATE_NOT_FOUND, `Certificate ${certificateId} was not found`, { certificateId });
      if (row.revokedAt) throw new PkiException(PkiErrorCode.CERTIFICATE_ALREADY_REVOKED, `Certificate ${certificateId} is already revoked`, { certificateId });
      const at = new Date();
      await this.certificates.update(manager, row.id, { revokedAt: at, revocationReason: reason });
      row.revokedAt = at;
      row.revocationReason = reason;
      await this.audit.record(manager, {
        entityType: 'Certificate',
        entityId: row.id,
        action: 'Revoked',
        after: { agentId: row.agentId, serialNumber: row.serialNumber, fingerprint: row.fingerprint },
        additional: { reason },
      });
      return row;
    });
    Metrics.add('ampora_pki_certs_revoked_total', 1, { tenant: TenantLabels.of(p.tenantId), kind: certificate.kind });
    this.log.info('Revoked certificate {CertificateId} ({Reason})', { CertificateId: certificate.id, Reason: reason });
    const session = certificate.agentId && this.dispatcher ? await this.dispatcher.disconnect({ agentId: certificate.agentId, tenantId: p.tenantId }, 'its certificate was revoked') : 'no_session';
    await this.keys.publishSoon();
    return { certificate, session };
  }
}
