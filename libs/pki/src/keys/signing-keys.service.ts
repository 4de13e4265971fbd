import { Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, isEvent, JobProducer, LiveBus, Page, PageQuery, Principal, SYSTEM_ACTOR, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalRequestRow, ApprovalService, ApprovalSubjectHandler, ApprovalSubjectKind, AuditService, DEFAULT_TENANT, Role, TenantService } from '@ampora/governance';
import { CaKeyAlgorithm } from '../pki.config';
import { canActivate, canRetire, trustedUntil, trustWindowOver } from '../domain/key-lifecycle';
import { OCSP_RENEW_BEFORE_DAYS, DAY_MS } from '../domain/certificate-rules';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { PKI_QUEUE } from '../pki.jobs';
import { SigningProviders } from '../providers/signing-providers';
import { Signer } from '../providers/signing-provider';
import { auditView } from './dto/signing-key.dto';
import { OcspResponderEntity } from './entities/ocsp-responder.entity';
import { SigningKeyEntity } from './entities/signing-key.entity';
import { SigningKeyRepository } from './signing-key.repository';
import { CaKeyMaterial, RESPONDER_ALGORITHM } from './ca-key-material';
import { KeyChange, PkiEvent, PkiEvents } from '../pki.events';

/**
 * The CA signing keys: generated on first start, created as Draft, activated (the previous Active key
 * becomes Trusted for AMPORA_PKI_TRUSTED_WINDOW_DAYS), retired. Private keys never leave their
 * provider: software keys are sealed under the master key the moment they exist. Activation is a
 * four-eyes change (decision 0301): `activate` opens an approval request, another Admin's approval
 * activates the key inside the decision's transaction.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap, OnModuleInit, ApprovalSubjectHandler {
  private readonly log = createLogger('Ampora.Pki.Keys.SigningKeysService');
  private readonly changeListeners: Array<(change: KeyChange) => void> = [];

  constructor(
    private readonly clock: Clock,
    private readonly keys: SigningKeyRepository,
    private readonly material: CaKeyMaterial,
    private readonly providers: SigningProviders,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly tenants: TenantService,
    private readonly jobs: JobProducer,
    private readonly bus: LiveBus,
    private readonly approvals: ApprovalService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onModuleInit(): void {
    this.approvals.registerSubject(ApprovalSubjectKind.SigningKey, this);
  }

  async onApplicationBootstrap(): Promise<void> {
    // key changes made by other instances reach this one's listeners (caches, sessions to close)
    this.bus.subscribe(
      (event) => {
        if (isEvent<PkiEvent, typeof PkiEvents.SigningKeyChanged>(event, PkiEvents.SigningKeyChanged)) this.notify(event.payload);
      },
      {
        name: 'pki.signing-keys',
        filter: (event) => event.type === PkiEvents.SigningKeyChanged && event.origin !== this.config.app.instanceId,
      },
    );
    await this.ensureCa();
    await this.resealStaleKeys();
  }

  // ---- reads --------------------------------------------------------------------------------

  list(page: PageQuery): Promise<Page<SigningKeyEntity>> {
    return this.keys.list(page);
  }

  async get(id: string): Promise<SigningKeyEntity> {
    const key = await this.keys.findById(id);
    if (!key) throw new PkiException(PkiErrorCode.SIGNING_KEY_NOT_FOUND, `Signing key ${id} was not found`);
    return key;
  }

  /** The key that signs new certificates. */
  async active(manager?: EntityManager): Promise<SigningKeyEntity> {
    const key = await this.keys.findActive(manager);
    if (!key) throw new PkiException(PkiErrorCode.NO_ACTIVE_SIGNING_KEY, 'Ampora\'s CA has no Active signing key: create and activate one');
    return key;
  }

  /** The loaded private key of a CA key; SIGNING_KEY_UNAVAILABLE when its provider cannot open it. */
  async signerOf(key: SigningKeyEntity): Promise<Signer> {
    try {
      return await this.providers.signer('pki_signing_keys', key, key.algorithm as CaKeyAlgorithm);
    } catch (error) {
      throw new PkiException(PkiErrorCode.SIGNING_KEY_UNAVAILABLE, `The private key of signing key ${key.id} (${key.provider}) cannot be used: ${error instanceof Error ? error.message : String(error)}`, { signingKeyId: key.id });
    }
  }

  /**
   * A detached signature of `data` by the Active CA key (whatever provider holds it), with that CA's
   * certificate to verify it: SHA-256 with RSASSA-PKCS1-v1_5, or ECDSA P-256 as IEEE P1363 (r‖s).
   * Federation signs handover tokens with it (decision 0371).
   */
  async signDetached(data: Uint8Array): Promise<{ signature: Buffer; caCertificatePem: string }> {
    const key = await this.active();
    const signer = await this.signerOf(key);
    const signature = await signer.crypto.subtle.sign(signer.signingAlgorithm, signer.privateKey, data);
    return { signature: Buffer.from(signature), caCertificatePem: new X509Certificate(key.certificate).toString() };
  }

  responderSignerOf(responder: OcspResponderEntity): Promise<Signer> {
    return this.providers.signer('pki_ocsp_responders', responder, RESPONDER_ALGORITHM);
  }

  /** Active and Trusted (inside their window) CA certificates: the trust bundle. */
  async published(): Promise<SigningKeyEntity[]> {
    const now = this.clock.nowMs();
    return (await this.keys.findPublished()).filter((k) => k.state === 'Active' || (k.trustedUntil && k.trustedUntil.getTime() > now));
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** First start: no key at all → generate one, make it Active, give it an OCSP responder. */
  async ensureCa(): Promise<void> {
    if ((await this.keys.count()) > 0) {
      if (!(await this.keys.findActive())) this.log.warn('Ampora\'s CA has keys but none is Active: agents cannot get certificates until an Admin activates one');
      return;
    }
    const tenantId = await this.systemTenantId();
    await this.tx.run(async ({ manager, afterCommit }) => {
      await this.keys.lockBootstrap(manager);
      if ((await this.keys.count(manager)) > 0) return;
      const now = this.clock.now();
      const key = await this.material.generateCaKey(manager, { algorithm: this.config.pki.caKeyAlgorithm, commonName: this.config.pki.caCommonName, createdBy: SYSTEM_ACTOR, tenantId, state: 'Active', now });
      const responder = await this.material.issueResponder({ manager, afterCommit }, key, await this.signerOf(key), tenantId, now);
      await this.audit.record(manager, {
        tenantId,
        actor: SYSTEM_ACTOR,
        actorRole: null,
        entityType: 'SigningKey',
        entityId: key.id,
        action: 'Generated',
        after: auditView(key),
        additional: { reason: 'first start: no CA key existed', activated: true, ocspResponderSerial: responder.serial },
      });
      afterCommit(async () => {
        this.log.info('Generated Ampora\'s CA key {SigningKeyId} ({Algorithm}, {Provider}) and made it Active', { SigningKeyId: key.id, Algorithm: key.algorithm, Provider: key.provider });
        this.changed(key);
        await this.publishSoon();
      });
    });
  }

  async create(p: Principal, input: { algorithm?: CaKeyAlgorithm; commonName?: string }): Promise<SigningKeyEntity> {
    this.assertCaAdmin(p);
    return this.tx.run(async ({ manager, afterCommit }) => {
      const key = await this.material.generateCaKey(manager, {
        algorithm: input.algorithm ?? this.config.pki.caKeyAlgorithm,
        commonName: input.commonName ?? this.config.pki.caCommonName,
        createdBy: p.actor,
        tenantId: p.tenantId,
        state: 'Draft',
        now: this.clock.now(),
      });
      await this.audit.record(manager, { entityType: 'SigningKey', entityId: key.id, action: 'Created', after: auditView(key) });
      afterCommit(() => this.log.info('Signing key {SigningKeyId} created as Draft by {Actor}', { SigningKeyId: key.id, Actor: p.actor }));
      return key;
    });
  }

  /**
   * Asks for the key's activation: a Draft key gets a pending approval request (another Admin of the
   * default tenant decides at /api/approvals); asking again while pending is the same request.
   */
  async requestActivation(p: Principal, id: string): Promise<{ key: SigningKeyEntity; approvalId: string }> {
    this.assertCaAdmin(p);
    return this.tx.run(async (tx) => {
      const key = await this.lock(tx.manager, id);
      const verdict = canActivate(key);
      if (!verdict.ok) throw new PkiException(PkiErrorCode[verdict.code], verdict.message, { signingKeyId: id, state: key.state });
      const active = await this.keys.findActive(tx.manager);
      const request = await this.approvals.request(tx, p, {
        subjectKind: ApprovalSubjectKind.SigningKey,
        subjectId: key.id,
        title: `Activate CA signing key ${key.commonName}`,
        before: { activeKeyId: active?.id ?? null, activeKeyFingerprint: active?.fingerprint ?? null },
        after: { activeKeyId: key.id, ...auditView(key), state: 'Active' },
        requiredRole: Role.Admin,
      });
      return { key, approvalId: request.id };
    });
  }

  /** The pending activation request of a key, if any. */
  async pendingActivation(id: string): Promise<string | null> {
    const tenantId = await this.systemTenantId();
    return (await this.approvals.list({ tenantId, status: 'Pending', subjectKind: ApprovalSubjectKind.SigningKey, subjectId: id }, { limit: 1 })).items[0]?.id ?? null;
  }

  /** Another Admin approved the activation: it happens now, in the decision's transaction. */
  async onApproved(tx: Tx, request: ApprovalRequestRow): Promise<void> {
    await this.activateIn(tx, request.tenantId, request.subjectId, { approvalId: request.id });
  }

  async onRejected(): Promise<void> {
    // a rejected activation leaves the key Draft; the decision's audit row carries the reason
  }

  private async activateIn({ manager, afterCommit }: Tx, tenantId: string, id: string, extra: Record<string, unknown>): Promise<SigningKeyEntity> {
    {
      const key = await this.lock(manager, id);
      const verdict = canActivate(key);
      if (!verdict.ok) throw new PkiException(PkiErrorCode[verdict.code], verdict.message, { signingKeyId: id, state: key.state });
      const before = auditView(key);
      const now = this.clock.now();
      const previous = await this.keys.findActive(manager);
      if (previous) {
        const until = trustedUntil(now, this.config.pki.trustedWindowDays);
        await this.keys.update(manager, previous.id, { state: 'Trusted', trustedUntil: until });
        previous.state = 'Trusted';
        previous.trustedUntil = until;
      }
      await this.keys.update(manager, key.id, { state: 'Active', activatedAt: now });
      key.state = 'Active';
      key.activatedAt = now;
      const responder = (await this.keys.currentResponder(key.id, manager)) ?? (await this.material.issueResponder({ manager, afterCommit }, key, await this.signerOf(key), tenantId, now));
      await this.audit.record(manager, {
        entityType: 'SigningKey',
        entityId: key.id,
        action: 'Activated',
        before,
        after: auditView(key),
        additional: { previousActiveKeyId: previous?.id ?? null, previousTrustedUntil: previous?.trustedUntil?.toISOString() ?? null, ocspResponderNotAfter: responder.notAfter.toISOString(), ...extra },
      });
      afterCommit(async () => {
        this.log.info('Signing key {SigningKeyId} is now Active; {PreviousKeyId} stays trusted until {TrustedUntil}', {
          SigningKeyId: key.id,
          PreviousKeyId: previous?.id ?? 'none',
          TrustedUntil: previous?.trustedUntil?.toISOString() ?? '-',
        });
        this.changed(key);
        if (previous) this.changed(previous);
        await this.publishSoon();
      });
      return key;
    }
  }

  async retire(p: Principal, id: string): Promise<SigningKeyEntity> {
    this.assertCaAdmin(p);
    return this.tx.run(async ({ manager, afterCommit }) => {
      const key = await this.lock(manager, id);
      const verdict = canRetire(key);
      if (!verdict.ok) throw new PkiException(PkiErrorCode[verdict.code], verdict.message, { signingKeyId: id, state: key.state });
      const before = auditView(key);
      await this.retireIn(manager, key, this.clock.now());
      await this.audit.record(manager, { entityType: 'SigningKey', entityId: key.id, action: 'Retired', before, after: auditView(key) });
      await this.approvals.withdraw({ manager, afterCommit }, p.tenantId, ApprovalSubjectKind.SigningKey, key.id, 'the signing key was retired');
      afterCommit(async () => {
        this.log.info('Signing key {SigningKeyId} retired by {Actor}: its certificates are no longer accepted', { SigningKeyId: key.id, Actor: p.actor });
        this.changed(key);
        await this.publishSoon();
      });
      return key;
    });
  }

  /** Hourly: retire keys whose trusted window ended; renew OCSP responders a month before they expire. */
  async maintain(now = this.clock.now()): Promise<{ retired: number; respondersRenewed: number }> {
    let retired = 0;
    let respondersRenewed = 0;
    const tenantId = await this.systemTenantId();
    for (const key of await this.keys.findPublished()) {
      if (trustWindowOver(key, now)) {
        await this.tx.run(async ({ manager, afterCommit }) => {
          const locked = await this.lock(manager, key.id);
          if (!trustWindowOver(locked, now)) return;
          const before = auditView(locked);
          await this.retireIn(manager, locked, now);
          afterCommit(() => this.changed(locked));
          await this.audit.record(manager, { tenantId, actor: SYSTEM_ACTOR, actorRole: null, entityType: 'SigningKey', entityId: key.id, action: 'Retired', before, after: auditView(locked), additional: { reason: 'trusted window ended' } });
        });
        retired++;
        continue;
      }
      const responder = await this.keys.currentResponder(key.id);
      if (!responder || responder.notAfter.getTime() - now.getTime() < OCSP_RENEW_BEFORE_DAYS * DAY_MS) {
        await this.tx.run(async (tx) => {
          const { manager } = tx;
          const fresh = await this.material.issueResponder(tx, key, await this.signerOf(key), tenantId, now);
          await this.audit.record(manager, { tenantId, actor: SYSTEM_ACTOR, actorRole: null, entityType: 'SigningKey', entityId: key.id, action: 'OcspResponderRenewed', additional: { serialNumber: fresh.serial, notAfter: fresh.notAfter.toISOString() } });
        });
        respondersRenewed++;
      }
    }
    if (retired || respondersRenewed) this.log.info('Key maintenance: {Retired} keys retired, {Renewed} OCSP responders renewed', { Retired: retired, Renewed: respondersRenewed });
    return { retired, respondersRenewed };
  }

  /** After AMPORA_MASTER_KEY was rotated: re-seal every software key still sealed with the previous one. */
  async resealStaleKeys(): Promise<number> {
    let count = 0;
    const tenantId = await this.systemTenantId();
    const unreadable = (what: string, id: string, error: unknown) =>
      this.log.error(
        'The private key of {What} {KeyRowId} cannot be opened with AMPORA_MASTER_KEY or AMPORA_PREVIOUS_MASTER_KEY: certificates cannot be signed with it. Restore the master key it was sealed with (as AMPORA_PREVIOUS_MASTER_KEY during a rotation)',
        { What: what, KeyRowId: id },
        error,
      );
    for (const key of await this.keys.findAll()) {
      if (!key.wrappedPrivateKey || key.wrappingKeyId === this.providers.box.keyId || key.state === 'Retired') continue;
      try {
        // locked: the server and the worker may start together
        const resealed = await this.tx.run(async ({ manager }) => {
          const locked = await this.lock(manager, key.id);
          const material = await this.providers.reseal('pki_signing_keys', locked, locked.algorithm as CaKeyAlgorithm);
          if (!material) return false;
          await this.keys.update(manager, key.id, { wrappedPrivateKey: material.wrappedPrivateKey, wrappingKeyId: material.wrappingKeyId });
          await this.audit.record(manager, { tenantId, actor: SYSTEM_ACTOR, actorRole: null, entityType: 'SigningKey', entityId: key.id, action: 'Resealed', additional: { from: locked.wrappingKeyId, to: material.wrappingKeyId } });
          return true;
        });
        if (resealed) count++;
      } catch (error) {
        unreadable('signing key', key.id, error);
      }
    }
    for (const responder of await this.keys.allResponders()) {
      if (!responder.wrappedPrivateKey || responder.wrappingKeyId === this.providers.box.keyId || responder.notAfter.getTime() < this.clock.nowMs()) continue;
      try {
        const material = await this.providers.reseal('pki_ocsp_responders', responder, RESPONDER_ALGORITHM);
        if (!material) continue;
        await this.tx.run(({ manager }) => this.keys.updateResponder(manager, responder.id, { wrappedPrivateKey: material.wrappedPrivateKey, wrappingKeyId: material.wrappingKeyId }));
        count++;
      } catch (error) {
        unreadable('OCSP responder', responder.id, error);
      }
    }
    if (count) this.log.info('Re-sealed {Count} private keys under the current master key', { Count: count });
    return count;
  }

  /** Called after a key changed state in this process (what is served from memory is then stale). */
  onChange(listener: (change: KeyChange) => void): void {
    this.changeListeners.push(listener);
  }

  private changed(key: SigningKeyEntity): void {
    const change: KeyChange = { signingKeyId: key.id, state: key.state };
    this.notify(change);
    void this.systemTenantId()
      .then((tenantId) => this.bus.publish<PkiEvent>({ type: PkiEvents.SigningKeyChanged, tenantId, entityId: key.id, payload: change }))
      .catch((error: unknown) => this.log.warn('Could not announce a key change to the other instances', {}, error));
  }

  private notify(change: KeyChange): void {
    for (const listener of this.changeListeners) {
      try {
        listener(change);
      } catch (error) {
        this.log.warn('A key change listener failed', {}, error);
      }
    }
  }

  /** Asks the worker to publish fresh CRLs now (after a revocation or a key change). */
  async publishSoon(): Promise<void> {
    try {
      await this.jobs.enqueue(PKI_QUEUE.name, PKI_QUEUE.jobs.publishCrls, {}, { tenantId: await this.systemTenantId() });
    } catch (error) {
      this.log.warn('Could not enqueue a CRL publication; the periodic one will catch up', {}, error);
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  private async retireIn(manager: EntityManager, key: SigningKeyEntity, now: Date): Promise<void> {
    await this.keys.update(manager, key.id, { state: 'Retired', retiredAt: now });
    key.state = 'Retired';
    key.retiredAt = now;
  }

  private async lock(manager: EntityManager, id: string): Promise<SigningKeyEntity> {
    const key = await this.keys.lockById(manager, id);
    if (!key) throw new PkiException(PkiErrorCode.SIGNING_KEY_NOT_FOUND, `Signing key ${id} was not found`);
    return key;
  }

  /** The CA belongs to the deployment: only Admins of the default tenant change its keys (decision 0060). */
  private assertCaAdmin(p: Principal): void {
    if (p.tenantName !== DEFAULT_TENANT) {
      throw new PkiException(PkiErrorCode.SIGNING_KEYS_FORBIDDEN, `The CA is shared by every tenant: only Admins of the ${DEFAULT_TENANT} tenant manage its keys`);
    }
  }

  private async systemTenantId(): Promise<string> {
    return (await this.tenants.getByName(DEFAULT_TENANT)).id;
  }
}
