import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock, createLogger, Metrics, Principal, TenantLabels, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentDispatcher, DispatchOutcome } from '@ampora/opamp';
import { RevocationReason } from '../domain/certificate-rules';
import { CertificateRepository } from '../certificates/certificate.repository';
import { CertificateEntity } from '../certificates/entities/certificate.entity';
import { SigningKeysService } from '../keys/signing-keys.service';
import { PkiErrorCode, PkiException } from '../pki.errors';

export interface AgentRevocation {
  agentId: string;
  revoked: CertificateEntity[];
  /** What happened to the agent's live session. */
  session: DispatchOutcome;
}

export interface BulkRevocation {
  certificates: number;
  agents: AgentRevocation[];
  skipped: Array<{ agentId: string; reason: 'no_certificate' | 'already_revoked' }>;
}

/** Sessions closed at once after a bulk revocation (each may be a forward to another instance). */
const BULK_DISCONNECT_CONCURRENCY = 50;

/**
 * Revokes an agent's certificates at once: the TLS listener refuses them on the next handshake (it
 * reads the revocation from the database), OCSP answers `revoked` from the same row, the live session
 * is closed and a CRL is published right away.
 */
@Injectable()
export class RevocationService {
  private readonly log = createLogger('Ampora.Pki.Revocation.RevocationService');

  constructor(
    private readonly clock: Clock,
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeysService,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
  ) {}

  async revokeAgent(p: Principal, agentId: string, reason: RevocationReason = 'unspecified'): Promise<AgentRevocation> {
    const revoked = await this.tx.run(async ({ manager }) => {
      const rows = await this.certificates.lockForAgent(manager, p.tenantId, agentId);
      if (rows.length === 0) throw new PkiException(PkiErrorCode.AGENT_CERTIFICATE_NOT_FOUND, `Agent ${agentId} holds no certificate of this tenant`, { agentId });
      const live = rows.filter((r) => !r.revokedAt);
      if (live.length === 0) throw new PkiException(PkiErrorCode.CERTIFICATE_ALREADY_REVOKED, `Every certificate of agent ${agentId} is already revoked`, { agentId });
      const at = this.clock.now();
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
    const session = await this.dispatcher.disconnect({ agentId, tenantId: p.tenantId }, 'its certificate was revoked');
    await this.keys.publishSoon();
    return { agentId, revoked, session };
  }

  /**
   * Revokes the certificates of up to BULK_REVOKE_MAX agents in one transaction and one audit event,
   * then closes their sessions and publishes the CRL once. Agents without a live certificate are
   * reported, not refused: a bulk action over a fleet view should not fail on one agent.
   */
  async revokeAgents(p: Principal, agentIds: string[], reason: RevocationReason = 'unspecified'): Promise<BulkRevocation> {
    const ids = [...new Set(agentIds)];
    const { revoked, skipped } = await this.tx.run(async ({ manager }) => {
      const rows = await this.certificates.lockForAgents(manager, p.tenantId, ids);
      const byAgent = new Map<string, CertificateEntity[]>();
      for (const row of rows) byAgent.set(row.agentId!, [...(byAgent.get(row.agentId!) ?? []), row]);
      const at = this.clock.now();
      const revoked = new Map<string, CertificateEntity[]>();
      const skipped: BulkRevocation['skipped'] = [];
      for (const agentId of ids) {
        const held = byAgent.get(agentId) ?? [];
        const live = held.filter((r) => !r.revokedAt);
        if (live.length === 0) {
          skipped.push({ agentId, reason: held.length ? 'already_revoked' : 'no_certificate' });
          continue;
        }
        for (const row of live) {
          row.revokedAt = at;
          row.revocationReason = reason;
        }
        revoked.set(agentId, live);
      }
      const certificates = [...revoked.values()].flat();
      await this.certificates.revokeMany(manager, certificates.map((c) => c.id), at, reason);
      // one event even when every agent was skipped: the attempt is the operator's action
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: 'bulk',
        action: 'CertificatesRevoked',
        after: { agents: revoked.size, certificates: certificates.length },
        additional: { reason, agentIds: [...revoked.keys()], serialNumbers: certificates.map((c) => c.serialNumber), skipped },
      });
      return { revoked, skipped };
    });
    const count = [...revoked.values()].reduce((n, list) => n + list.length, 0);
    if (count) Metrics.add('ampora_pki_certs_revoked_total', count, { tenant: TenantLabels.of(p.tenantId), kind: 'agent' });
    this.log.info('Revoked {Count} certificates of {Agents} agents in bulk ({Reason}); {Skipped} agents skipped', { Count: count, Agents: revoked.size, Reason: reason, Skipped: skipped.length });
    const agents: AgentRevocation[] = [];
    const list = [...revoked.entries()];
    for (let i = 0; i < list.length; i += BULK_DISCONNECT_CONCURRENCY) {
      const chunk = list.slice(i, i + BULK_DISCONNECT_CONCURRENCY);
      agents.push(
        ...(await Promise.all(
          chunk.map(async ([agentId, certs]) => ({
            agentId,
            revoked: certs,
            session: await this.dispatcher.disconnect({ agentId, tenantId: p.tenantId }, 'its certificate was revoked').catch((): DispatchOutcome => 'unconfirmed'),
          })),
        )),
      );
    }
    if (count) await this.keys.publishSoon();
    return { certificates: count, agents, skipped };
  }

  /**
   * Revokes every live certificate of these agents inside the caller's transaction, without an audit
   * event of its own: for a caller whose action includes the revocation and audits it (forgetting
   * agents). Returns the revoked certificates; after the commit call `publishRevocations` once.
   * Sessions are the caller's business.
   */
  async revokeWithin(manager: EntityManager, tenantId: string, agentIds: string[], reason: RevocationReason): Promise<CertificateEntity[]> {
    const ids = [...new Set(agentIds)];
    if (ids.length === 0) return [];
    const live = (await this.certificates.lockForAgents(manager, tenantId, ids)).filter((r) => !r.revokedAt);
    const at = this.clock.now();
    await this.certificates.revokeMany(manager, live.map((c) => c.id), at, reason);
    for (const row of live) {
      row.revokedAt = at;
      row.revocationReason = reason;
    }
    return live;
  }

  /** After a committed `revokeWithin`: counts the revocations and publishes the CRL soon. */
  async publishRevocations(tenantId: string, count: number): Promise<void> {
    if (count === 0) return;
    Metrics.add('ampora_pki_certs_revoked_total', count, { tenant: TenantLabels.of(tenantId), kind: 'agent' });
    await this.keys.publishSoon();
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
      const at = this.clock.now();
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
    const session = certificate.agentId ? await this.dispatcher.disconnect({ agentId: certificate.agentId, tenantId: p.tenantId }, 'its certificate was revoked') : 'no_session';
    await this.keys.publishSoon();
    return { certificate, session };
  }
}
