import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { EntityManager } from 'typeorm';
import * as x509 from '@peculiar/x509';
import { AMPORA_CONFIG, AmporaConfig, AuditService, createLogger, Metrics, Principal, TenantLabels, TransactionRunner } from '@ampora/platform';
import {
  AgentCertificates,
  AgentCertificateState,
  ClientCertificate,
  ClientCertificateVerifier,
  ConnectionSettingsContext,
  ConnectionSettingsProvider,
  pb,
} from '@ampora/opamp';
import { inValidityWindow, renewalDue } from '../domain/certificate-rules';
import { mtlsEndpoint } from '../domain/mtls-endpoint';
import { isTrusted } from '../domain/key-lifecycle';
import { SigningKeyRepository } from '../keys/signing-key.repository';
import { SigningKeyEntity } from '../keys/entities/signing-key.entity';
import { PkiException } from '../pki.errors';
import { CertificateIssuer, Issued, parseCsr } from './certificate-issuer';
import { CertificateRepository } from './certificate.repository';
import { CertificateEntity } from './entities/certificate.entity';
import type { CryptoKey } from '../providers/webcrypto';

type Offer = MessageInitShape<typeof pb.ConnectionSettingsOffersSchema>;

/**
 * Agent identities: certificates offered over OpAMP (at enrolment, on a CSR, and on renewal), signed
 * through the API, verified on the TLS listener, and bound to agents by fingerprint. Implements the
 * OpAMP ports CONNECTION_SETTINGS_PROVIDER, CLIENT_CERTIFICATE_VERIFIER and AGENT_CERTIFICATES.
 */
@Injectable()
export class AgentIdentityService implements ConnectionSettingsProvider, ClientCertificateVerifier, AgentCertificates {
  readonly acceptsCertificateRequests = true;
  private readonly log = createLogger('Ampora.Pki.Certificates.AgentIdentityService');
  /** CA public keys, by signing key id, to check leaf signatures without re-parsing. */
  private readonly caPublicKeys = new Map<string, Promise<CryptoKey>>();

  constructor(
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeyRepository,
    private readonly issuer: CertificateIssuer,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  // ---- OpAMP: connection settings offers ------------------------------------------------------

  async offer(ctx: ConnectionSettingsContext): Promise<Offer | undefined> {
    if (ctx.csr) return this.csrOffer(ctx, ctx.csr);
    try {
      return await this.serverMadeOffer(ctx);
    } catch (error) {
      // the agent keeps working with what it has; it gets a certificate on a later connection
      this.log.error('Could not issue a certificate to agent {AgentId}', { AgentId: ctx.agentId }, error);
      return undefined;
    }
  }

  /** The agent sent a CSR: a failure is answered (BadRequest with the reason) by the OpAMP core. */
  private async csrOffer(ctx: ConnectionSettingsContext, csrPem: Uint8Array): Promise<Offer> {
    // the agent keeps its key: sign its request (enrolment, or renewal over a certificate connection)
    const csr = await this.checkedCsr(csrPem);
    const replaces = ctx.credential.kind === 'certificate' ? await this.certificates.findByFingerprint(ctx.credential.fingerprint) : null;
    const issued = await this.issueForAgent(ctx, { publicKey: csr.publicKey, keySource: 'csr', replaces });
    return certificateOffer(issued, mtlsEndpoint(this.config.opamp.mtlsUrl, ctx.transport));
  }

  private async serverMadeOffer(ctx: ConnectionSettingsContext): Promise<Offer | undefined> {
    if (ctx.credential.kind === 'bootstrap') {
      const state = ctx.justEnrolled ? 'none' : await this.certificateState(ctx.agentId);
      // an agent that enrols (or still has none, or let its certificate expire) gets one; a revoked one does not
      if (state !== 'none' && state !== 'expired') return undefined;
      const pair = await this.issuer.agentKeyPair();
      const issued = await this.issueForAgent(ctx, { publicKey: pair.publicKey, keySource: 'server', replaces: null });
      return certificateOffer(issued, mtlsEndpoint(this.config.opamp.mtlsUrl, ctx.transport), pair.privateKeyPem);
    }
    // a certificate connection: renew when the leaf is close to its end
    return this.renewalFor(ctx, new Date(), { whilePending: 'reissue' });
  }

  /**
   * A renewed certificate for an agent connected with a certificate that is within the renewal
   * threshold at `at`, or undefined. When a renewal was issued already and the agent still presents
   * the old certificate, `reissue` supersedes it (a new connection: it did not take the last one) and
   * `skip` leaves it (the periodic push: it may simply not have reconnected yet).
   */
  async renewalFor(ctx: ConnectionSettingsContext, at: Date, options: { whilePending: 'reissue' | 'skip' }): Promise<Offer | undefined> {
    if (ctx.credential.kind !== 'certificate') return undefined;
    const current = await this.certificates.findByFingerprint(ctx.credential.fingerprint);
    if (!current || current.revokedAt || !renewalDue(current.notAfter, at, this.config.pki.renewalThresholdDays)) return undefined;
    if (current.replacedById && options.whilePending === 'skip') {
      const pending = await this.certificates.findById(current.replacedById);
      if (pending && !pending.revokedAt) return undefined;
    }
    const pair = await this.issuer.agentKeyPair();
    const issued = await this.issueForAgent(ctx, { publicKey: pair.publicKey, keySource: 'server', replaces: current });
    return certificateOffer(issued, mtlsEndpoint(this.config.opamp.mtlsUrl, ctx.transport), pair.privateKeyPem);
  }

  private async checkedCsr(csr: Uint8Array): Promise<x509.Pkcs10CertificateRequest> {
    try {
      return await parseCsr(csr);
    } catch (error) {
      // the OpAMP core answers a thrown error with BadRequest and this message
      throw new Error(error instanceof PkiException ? error.message : 'unreadable certificate request');
    }
  }

  /**
   * Issues (and audits) a certificate for a connected agent. A renewal supersedes an earlier renewal of
   * the same certificate that the agent never used (it still presents the old one): that one is revoked.
   */
  private async issueForAgent(ctx: ConnectionSettingsContext, input: { publicKey: x509.PublicKey; keySource: 'server' | 'csr'; replaces: CertificateEntity | null }): Promise<Issued> {
    const renewal = Boolean(input.replaces);
    const issued = await this.tx.run(async ({ manager, afterCommit }) => {
      let superseded: CertificateEntity | null = null;
      if (input.replaces?.replacedById) {
        superseded = await this.certificates.findById(input.replaces.replacedById, manager);
        if (superseded && !superseded.revokedAt) await this.certificates.update(manager, superseded.id, { revokedAt: new Date(), revocationReason: 'superseded' });
        else superseded = null;
      }
      const result = await this.issuer.issue(manager, {
        tenantId: ctx.tenantId,
        agentId: ctx.agentId,
        publicKey: input.publicKey,
        keySource: input.keySource,
        reason: renewal ? 'renewal' : 'enrolment',
        replacesId: input.replaces?.id ?? null,
      });
      if (input.replaces) await this.certificates.update(manager, input.replaces.id, { replacedById: result.row.id });
      await this.audit.record(manager, {
        tenantId: ctx.tenantId,
        actor: `agent:${ctx.agentId}`,
        actorRole: null,
        entityType: 'Certificate',
        entityId: result.row.id,
        action: renewal ? 'Renewed' : 'Issued',
        after: CertificateIssuer.auditView(result.row),
        additional: { via: 'opamp', replaces: input.replaces?.serialNumber ?? null, supersededRenewal: superseded?.serialNumber ?? null },
      });
      afterCommit(() => {
        const tenant = TenantLabels.of(ctx.tenantId);
        Metrics.add('ampora_pki_certs_issued_total', 1, { tenant, kind: 'agent' });
        if (superseded) Metrics.add('ampora_pki_certs_revoked_total', 1, { tenant, kind: 'agent' });
        this.log.info(renewal ? 'Renewed the certificate of agent {AgentId}: serial {SerialNumber}, until {NotAfter}' : 'Issued a certificate to agent {AgentId}: serial {SerialNumber}, until {NotAfter}', {
          AgentId: ctx.agentId,
          SerialNumber: result.row.serialNumber,
          NotAfter: result.row.notAfter.toISOString(),
          KeySource: input.keySource,
        });
      });
      return result;
    });
    return issued;
  }

  // ---- REST: a CSR for an agent provisioned by other means ------------------------------------

  async signCsr(p: Principal, pem: string): Promise<Issued> {
    const csr = await parseCsr(pem);
    return this.tx.run(async ({ manager, afterCommit }) => {
      const issued = await this.issuer.issue(manager, { tenantId: p.tenantId, agentId: null, publicKey: csr.publicKey, keySource: 'csr', reason: 'api' });
      await this.audit.record(manager, {
        entityType: 'Certificate',
        entityId: issued.row.id,
        action: 'Issued',
        after: CertificateIssuer.auditView(issued.row),
        additional: { via: 'api', csrSubject: csr.subject },
      });
      afterCommit(() => {
        Metrics.add('ampora_pki_certs_issued_total', 1, { tenant: TenantLabels.of(p.tenantId), kind: 'agent' });
        this.log.info('Signed a CSR for an agent provisioned by other means: certificate {CertificateId}, serial {SerialNumber}', { CertificateId: issued.row.id, SerialNumber: issued.row.serialNumber });
      });
      return issued;
    });
  }

  // ---- the TLS listener: verification and identity ---------------------------------------------

  async verify(certificate: ClientCertificate): Promise<{ ok: true } | { ok: false; reason: string }> {
    const row = await this.certificates.findByFingerprint(certificate.fingerprint);
    if (!row) return { ok: false, reason: 'not a certificate issued by Ampora\'s CA' };
    if (row.revokedAt) return { ok: false, reason: `revoked at ${row.revokedAt.toISOString()}` };
    const now = new Date();
    if (!inValidityWindow(row.notBefore, row.notAfter, now)) return { ok: false, reason: row.notAfter < now ? 'expired' : 'not valid yet' };
    const key = await this.keys.findById(row.signingKeyId);
    if (!key || !isTrusted(key, now)) return { ok: false, reason: `its CA key is ${key?.state ?? 'gone'}: no longer trusted` };
    let signed = false;
    try {
      signed = await new x509.X509Certificate(certificate.der).verify({ publicKey: await this.caPublicKey(key), signatureOnly: true });
    } catch {
      signed = false;
    }
    if (!signed) return { ok: false, reason: 'its signature does not verify with the CA key' };
    return { ok: true };
  }

  async agentFor(fingerprint: string): Promise<{ agentId?: string; tenantId: string } | undefined> {
    const row = await this.certificates.findByFingerprint(fingerprint);
    if (!row || row.revokedAt) return undefined;
    return { agentId: row.agentId ?? undefined, tenantId: row.tenantId };
  }

  async holdsCertificate(agentId: string): Promise<boolean> {
    return (await this.certificateState(agentId)) === 'valid';
  }

  async certificateState(agentId: string): Promise<AgentCertificateState> {
    const rows = await this.certificates.forAgent(agentId);
    if (rows.length === 0) return 'none';
    const now = new Date();
    if (rows.some((r) => !r.revokedAt && inValidityWindow(r.notBefore, r.notAfter, now))) return 'valid';
    if (rows.some((r) => r.revokedAt && r.revocationReason !== 'superseded')) return 'revoked';
    return 'expired';
  }

  async bindOnce(manager: unknown, fingerprint: string, create: () => Promise<string>): Promise<{ agentId: string; created: boolean }> {
    const m = manager as EntityManager;
    const row = await this.certificates.lockByFingerprint(m, fingerprint);
    if (!row) throw new Error('unknown certificate');
    if (row.agentId) return { agentId: row.agentId, created: false };
    const agentId = await create();
    await this.certificates.update(m, row.id, { agentId });
    return { agentId, created: true };
  }

  private caPublicKey(key: SigningKeyEntity): Promise<CryptoKey> {
    let pending = this.caPublicKeys.get(key.id);
    if (!pending) {
      pending = new x509.X509Certificate(key.certificate).publicKey.export();
      pending.catch(() => this.caPublicKeys.delete(key.id));
      this.caPublicKeys.set(key.id, pending);
    }
    return pending;
  }
}

/** A ConnectionSettingsOffers carrying a certificate (and the private key when the server made it). */
function certificateOffer(issued: Issued, endpoint: string | undefined, privateKeyPem?: string): Offer {
  return {
    opamp: {
      destinationEndpoint: endpoint ?? '',
      certificate: {
        cert: Buffer.from(issued.certificatePem),
        privateKey: privateKeyPem ? Buffer.from(privateKeyPem) : new Uint8Array(),
        caCert: Buffer.from(issued.caCertificatePem),
      },
    },
  };
}
