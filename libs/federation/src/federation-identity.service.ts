import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, LiveBus, Page, PageQuery, Principal, resolveMasterKeys, SecretBox, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { FederationCertificates } from '@ampora/pki';
import { FederationCredentialEntity } from './entities/federation-credential.entity';
import { FederationErrorCode, FederationException } from './federation.errors';
import { FederationEvent, FederationEvents } from './federation.events';
import { FederationStore } from './federation.store';

/** What this deployment presents to its peers: its federation certificate and key (PEM) and the certificate's thumbprint. */
export interface FederationIdentity {
  id: string;
  certPem: string;
  keyPem: string;
  fingerprint: string;
  notAfter: Date;
}

const sealContext = (id: string) => `federation_credentials:${id}`;
const REFRESH_MS = 60_000;

/**
 * Federation certificates (decision 0310): issued by PKI's CA with the subject the Admin chooses, the
 * private key sealed here and never returned; the newest in-date one is this deployment's identity.
 * Listeners of `onChange` (the federation listener) hear a new identity at once in this process and
 * within a minute in the others.
 */
@Injectable()
export class FederationIdentityService implements OnModuleDestroy {
  private readonly box: SecretBox;
  private cached: { identity: FederationIdentity | null; at: number } | undefined;
  private readonly listeners = new Set<(identity: FederationIdentity | null) => void>();

  constructor(
    private readonly store: FederationStore,
    private readonly certificates: FederationCertificates,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly bus: LiveBus,
    @Inject(AMPORA_CONFIG) config: AmporaConfig,
  ) {
    this.box = new SecretBox(resolveMasterKeys(config));
  }

  onModuleDestroy(): void {
    this.listeners.clear();
  }

  async issue(p: Principal, subject: string): Promise<FederationCredentialEntity> {
    const row = await this.tx.run(async (tx) => {
      const issued = await this.certificates.issue(tx, p.tenantId, subject);
      const saved = await this.store.insertCredential(tx.manager, {
        id: issued.id,
        tenantId: p.tenantId,
        subject: issued.subject,
        fingerprint: issued.fingerprint,
        serialNumber: issued.serialNumber,
        certificatePem: issued.certificatePem,
        privateKeySealed: this.box.seal(Buffer.from(issued.privateKeyPem, 'utf8'), sealContext(issued.id)),
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        createdBy: p.actor,
        createdAt: this.clock.now(),
      });
      await this.audit.record(tx.manager, { entityType: 'FederationCertificate', entityId: saved.id, action: 'Issued', after: { subject: saved.subject, fingerprint: saved.fingerprint, serialNumber: saved.serialNumber, notAfter: saved.notAfter.toISOString() } });
      const payload = { certificateId: saved.id, fingerprint: saved.fingerprint, notAfter: saved.notAfter.toISOString() };
      tx.afterCommit(() => this.bus.publish<FederationEvent>({ type: FederationEvents.CertificateIssued, tenantId: p.tenantId, entityId: saved.id, payload }));
      return saved;
    });
    this.cached = undefined;
    const identity = await this.current();
    for (const listener of this.listeners) listener(identity);
    return row;
  }

  list(page: PageQuery): Promise<Page<FederationCredentialEntity>> {
    return this.store.listCredentials(page);
  }

  async get(id: string): Promise<FederationCredentialEntity> {
    const row = await this.store.findCredential(id);
    if (!row) throw new FederationException(FederationErrorCode.FEDERATION_CERTIFICATE_NOT_FOUND, 'No such federation certificate', { certificateId: id });
    return row;
  }

  /** This deployment's identity now (cached for a minute), or null when no federation certificate is in date. */
  async current(): Promise<FederationIdentity | null> {
    const now = this.clock.nowMs();
    if (this.cached && now - this.cached.at < REFRESH_MS && (!this.cached.identity || this.cached.identity.notAfter.getTime() > now)) return this.cached.identity;
    const row = await this.store.currentCredential(this.clock.now());
    const identity = row
      ? { id: row.id, certPem: row.certificatePem, keyPem: this.box.open(row.privateKeySealed, sealContext(row.id)).plaintext.toString('utf8'), fingerprint: row.fingerprint, notAfter: row.notAfter }
      : null;
    const changed = this.cached !== undefined && this.cached.identity?.id !== identity?.id;
    this.cached = { identity, at: now };
    if (changed) for (const listener of this.listeners) listener(identity);
    return identity;
  }

  async required(): Promise<FederationIdentity> {
    const identity = await this.current();
    if (!identity) throw new FederationException(FederationErrorCode.FEDERATION_NO_CERTIFICATE, 'This deployment has no federation certificate in date: issue one (POST /api/federation/certificates)');
    return identity;
  }

  onChange(listener: (identity: FederationIdentity | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
