import { Inject, Injectable } from '@nestjs/common';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { X509Certificate as NodeX509Certificate } from 'node:crypto';
import { EntityManager } from 'typeorm';
import * as x509 from '@peculiar/x509';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Metrics, Principal, TenantLabels, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import {
  AgentCertificates,
  AgentCertificateState,
  CertificateOfferStatus,
  ClientCertificate,
  ClientCertificateVerifier,
  ConnectionSettingsContext,
  ConnectionSettingsProvider,
  pb,
} from '@ampora/opamp';
import { inValidityWindow, renewalDue } from '../domain/certificate-rules';
import { joinPem, mayOfferAgain, offerSettingsHash, offerStatus } from '../domain/offer-rules';
import { isTrusted } from '../domain/key-lifecycle';
import { SigningKeyRepository } from '../keys/signing-key.repository';
import { SigningKeyEntity } from '../keys/entities/signing-key.entity';
import { PkiException } from '../pki.errors';
import { CertificateIssuer, Issued, parseCsr } from './certificate-issuer';
import { AdoptedCertificates } from './adopted-certificates';
import { CertificateRepository, CertificateValidity } from './certificate.repository';
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
    private readonly clock: Clock,
    private readonly certificates: CertificateRepository,
    private readonly keys: SigningKeyRepository,
    private readonly issuer: CertificateIssuer,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly adopted: AdoptedCertificates,
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
    return certificateOffer(issued, ctx.mtls);
  }

  /**
   * A token connection gets a certificate only when it can be told where to use it and how to verify
   * that listener (`ctx.mtls`), and its last offer does not forbid it (decision 0121): a pending offer
   * is waited for, an unusable one is not repeated with the same endpoint and trust, a used one is
   * replaced (the agent came back with its token: it lost what it was offered).
   */
  private async serverMadeOffer(ctx: ConnectionSettingsContext): Promise<Offer | undefined> {
    if (ctx.credential.kind === 'bootstrap') {
      if (!ctx.mtls) return undefined;
      const rows = ctx.justEnrolled ? [] : await this.certificates.forAgent(ctx.agentId);
      if (stateOf(rows, this.clock.now()) === 'revoked') return undefined;
      const latest = rows.find((r) => r.offeredAt);
      const settings = offerSettingsHash(ctx.mtls.endpoint, ctx.mtls.serverCaPem);
      if (!mayOfferAgain(latest ?? undefined, settings, this.clock.now(), this.config.pki.offerTimeoutSeconds)) return undefined;
      const pair = await this.issuer.agentKeyPair();
      const unused = rows.filter((r) => r.offeredAt && !r.firstUsedAt && !r.revokedAt);
      const issued = await this.issueForAgent(ctx, { publicKey: pair.publicKey, keySource: 'server', replaces: null, supersedes: unused });
      return certificateOffer(issued, ctx.mtls, pair.privateKeyPem);
    }
    // a certificate connection: renew when the leaf is close to its end
    return this.renewalFor(ctx, this.clock.now(), { whilePending: 'reissue' });
  }

  /**
   * A renewed certificate for an agent connected with a certificate that is within the renewal
   * threshold at `at`, or undefined. When a renewal was issued already and the agent still presents
   * the old certificate, `reissue` supersedes it (a new connection: it did not take the last one) and
   * `skip` leaves it (the periodic push: it may simply not have reconnected yet). A certificate an
   * operator asked to rotate (decision 0380) is due whatever its end.
   */
  async renewalFor(ctx: ConnectionSettingsContext, at: Date, options: { whilePending: 'reissue' | 'skip' }): Promise<Offer | undefined> {
    if (ctx.credential.kind !== 'certificate') return undefined;
    const current = await this.certificates.findByFingerprint(ctx.credential.fingerprint);
    if (!current || current.revokedAt) return undefined;
    if (!current.rotationRequestedAt && !renewalDue(current.notAfter, at, this.config.pki.renewalThresholdDays)) return undefined;
    if (current.replacedById && options.whilePending === 'skip') {
      const pending = await this.certificates.findById(current.replacedById);
      if (pending && !pending.revokedAt) return undefined;
    }
    const pair = await this.issuer.agentKeyPair();
    const issued = await this.issueForAgent(ctx, { publicKey: pair.publicKey, keySource: 'server', replaces: current });
    return certificateOffer(issued, ctx.mtls, pair.privateKeyPem);
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
  private async issueForAgent(
    ctx: ConnectionSettingsContext,
    input: { publicKey: x509.PublicKey; keySource: 'server' | 'csr'; replaces: CertificateEntity | null; supersedes?: CertificateEntity[] },
  ): Promise<Issued> {
    const renewal = Boolean(input.replaces);
    const issued = await this.tx.run(async ({ manager, afterCommit }) => {
      // earlier offers the agent never used: their keys existed only in those offers
      const stale = (input.supersedes ?? []).map((r) => r.id);
      if (stale.length) await this.certificates.revokeMany(manager, stale, this.clock.now(), 'superseded');
      let superseded: CertificateEntity | null = null;
      if (input.replaces?.replacedById) {
        superseded = await this.certificates.findById(input.replaces.replacedById, manager);
        if (superseded && !superseded.revokedAt) await this.certificates.update(manager, superseded.id, { revokedAt: this.clock.now(), revocationReason: 'superseded' });
        else superseded = null;
      }
      // a move to the listener is followed (the offer is recorded with the row); a renewal is not (the
      // agent may keep its connection for long)
      const offer = ctx.mtls && !input.replaces ? { offeredAt: this.clock.now(), offerEndpoint: ctx.mtls.endpoint.slice(0, 500), offerSettingsHash: offerSettingsHash(ctx.mtls.endpoint, ctx.mtls.serverCaPem) } : undefined;
      const result = await this.issuer.issue(manager, {
        tenantId: ctx.tenantId,
        agentId: ctx.agentId,
        publicKey: input.publicKey,
        keySource: input.keySource,
        reason: renewal ? 'renewal' : 'enrolment',
        replacesId: input.replaces?.id ?? null,
        offer,
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
        additional: {
          via: 'opamp',
          replaces: input.replaces?.serialNumber ?? null,
          supersededRenewal: superseded?.serialNumber ?? null,
          ...(input.replaces?.rotationRequestedAt ? { rotationRequestedAt: input.replaces.rotationRequestedAt.toISOString() } : {}),
        },
      });
      afterCommit(() => {
        const tenant = TenantLabels.of(ctx.tenantId);
        Metrics.add('ampora_pki_certs_issued_total', 1, { tenant, kind: 'agent' });
        if (superseded) Metrics.add('ampora_pki_certs_revoked_total', 1, { tenant, kind: 'agent' });
        if (stale.length) Metrics.add('ampora_pki_certs_revoked_total', stale.length, { tenant, kind: 'agent' });
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
    if (!row) {
      // an agent handed over by a peer keeps the leaf the peer's CA issued (decision 0371)
      const adopted = await this.adopted.findByFingerprint(certificate.fingerprint);
      return adopted ? this.adopted.verify(certificate.der, adopted) : { ok: false, reason: 'not a certificate issued by Ampora\'s CA' };
    }
    if (row.revokedAt) return { ok: false, reason: `revoked at ${row.revokedAt.toISOString()}` };
    const now = this.clock.now();
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
    if (!row.firstUsedAt) await this.firstUse(row, now);
    return { ok: true };
  }

  /**
   * The first TLS connection with a certificate (the handshake proved the key): the offer worked, and
   * from now on REQUIRE_MTLS holds the agent to it. Earlier server-made offers of the same agent are
   * superseded: their keys existed only in offers the agent no longer has (decision 0121).
   */
  private async firstUse(row: CertificateEntity, now: Date): Promise<void> {
    const superseded = await this.tx.run(async ({ manager }) => {
      if (!(await this.certificates.markFirstUse(manager, row.id, now))) return 0;
      if (!row.agentId || !row.offeredAt) return 0;
      return this.certificates.supersedeOlderOffers(manager, row.agentId, row.id, row.offeredAt, now);
    });
    row.firstUsedAt = now;
    if (row.offeredAt) {
      this.log.info('Agent {AgentId} reached the mTLS listener with its offered certificate {SerialNumber} after {Seconds} s', {
        AgentId: row.agentId,
        SerialNumber: row.serialNumber,
        Seconds: Math.round((now.getTime() - row.offeredAt.getTime()) / 1000),
      });
    }
    if (superseded > 0) Metrics.add('ampora_pki_certs_revoked_total', superseded, { tenant: TenantLabels.of(row.tenantId), kind: 'agent' });
  }

  /** The agent's latest certificate offer and what became of it. */
  async latestOffer(agentId: string): Promise<CertificateOfferStatus | undefined> {
    const row = await this.certificates.latestOffer(agentId);
    if (!row || !row.offeredAt) return undefined;
    return {
      status: offerStatus(row, this.clock.now(), this.config.pki.offerTimeoutSeconds),
      certificateId: row.id,
      serialNumber: row.serialNumber,
      fingerprint: row.fingerprint,
      endpoint: row.offerEndpoint,
      offeredAt: row.offeredAt,
      usedAt: row.firstUsedAt,
      unusableAt: row.offerUnusableAt ?? (row.firstUsedAt || row.revokedAt ? null : new Date(row.offeredAt.getTime() + this.config.pki.offerTimeoutSeconds * 1000)),
    };
  }

  /**
   * Marks the offers not used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS as unusable (each once, whichever
   * instance gets there first), logs and counts them. Returns how many.
   */
  async noticeUnusableOffers(now = this.clock.now()): Promise<number> {
    // the query gathers the open offers old enough; offerStatus (domain/offer-rules.ts) decides which are unusable
    const timeout = this.config.pki.offerTimeoutSeconds;
    const open = await this.certificates.openOffersBefore(new Date(now.getTime() - timeout * 1000));
    const due = open.filter((r) => offerStatus(r, now, timeout) === 'unusable');
    const rows = await this.certificates.markUnusableOffers(due.map((r) => r.id), now);
    for (const r of rows) {
      Metrics.add('ampora_pki_offers_unusable_total', 1, { tenant: TenantLabels.of(r.tenantId) });
      this.log.warn('Agent {AgentId} never reached {Endpoint} with the certificate offered at {OfferedAt}: the offer is unusable and is not repeated with the same endpoint and trust; the agent keeps its bootstrap token', {
        AgentId: r.agentId,
        Endpoint: r.offerEndpoint,
        OfferedAt: r.offeredAt?.toISOString(),
        SerialNumber: r.serialNumber,
      });
    }
    return rows.length;
  }

  async agentFor(fingerprint: string): Promise<{ agentId?: string; tenantId: string } | undefined> {
    const row = await this.certificates.findByFingerprint(fingerprint);
    if (!row) {
      const adopted = await this.adopted.findByFingerprint(fingerprint);
      return adopted && !adopted.revokedAt ? { agentId: adopted.agentId, tenantId: adopted.tenantId } : undefined;
    }
    if (row.revokedAt) return undefined;
    return { agentId: row.agentId ?? undefined, tenantId: row.tenantId };
  }

  /** An agent certificate of this CA and the CA certificate that issued it, as PEM (a handover carries both, decision 0371). */
  async certificateWithIssuer(fingerprint: string): Promise<{ certificatePem: string; issuerCaPem: string; agentId: string | null; tenantId: string } | undefined> {
    const row = await this.certificates.findByFingerprint(fingerprint);
    if (!row || row.revokedAt) return undefined;
    const key = await this.keys.findById(row.signingKeyId);
    if (!key) return undefined;
    return { certificatePem: new NodeX509Certificate(row.certificate).toString(), issuerCaPem: new NodeX509Certificate(key.certificate).toString(), agentId: row.agentId ?? null, tenantId: row.tenantId };
  }

  async holdsCertificate(agentId: string): Promise<boolean> {
    return (await this.certificateState(agentId)) === 'valid';
  }

  async certificateState(agentId: string): Promise<AgentCertificateState> {
    return stateOf(await this.certificates.forAgent(agentId), this.clock.now());
  }

  /** The states of several agents' certificates from one read (decision 0425), by agent id. */
  async certificateStates(agentIds: readonly string[]): Promise<Map<string, AgentCertificateState>> {
    const rows = await this.certificates.validityForAgents([...new Set(agentIds)]);
    const now = this.clock.now();
    const byAgent = new Map<string, CertificateValidity[]>(agentIds.map((id) => [id, []]));
    for (const row of rows) if (row.agentId) byAgent.get(row.agentId)?.push(row);
    return new Map([...byAgent].map(([id, list]) => [id, stateOf(list, now)]));
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

/**
 * The state of an agent's certificates: `valid` needs one in date, unrevoked, that the agent has
 * connected with; in-date ones it never used are `unused` (decision 0121).
 */
function stateOf(rows: readonly CertificateValidity[], now: Date): AgentCertificateState {
  if (rows.length === 0) return 'none';
  const live = rows.filter((r) => !r.revokedAt && inValidityWindow(r.notBefore, r.notAfter, now));
  if (live.some((r) => r.firstUsedAt)) return 'valid';
  if (live.length > 0) return 'unused';
  if (rows.some((r) => r.revokedAt && r.revocationReason !== 'superseded')) return 'revoked';
  return 'expired';
}

/**
 * A ConnectionSettingsOffers carrying a certificate (and the private key when the server made it).
 * `ca_cert` holds Ampora's CA and the certificates that verify the listener the agent is sent to: the
 * OpAMP Supervisor verifies the server against this field alone (decision 0120).
 */
function certificateOffer(issued: Issued, target: ConnectionSettingsContext['mtls'], privateKeyPem?: string): Offer {
  return {
    opamp: {
      destinationEndpoint: target?.endpoint ?? '',
      certificate: {
        cert: Buffer.from(issued.certificatePem),
        privateKey: privateKeyPem ? Buffer.from(privateKeyPem) : new Uint8Array(),
        caCert: Buffer.from(joinPem(issued.caCertificatePem, target?.serverCaPem)),
      },
    },
  };
}
