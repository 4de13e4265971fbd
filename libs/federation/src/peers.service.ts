import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AMPORA_CONFIG, AmporaConfig, Clock, LiveBus, Page, PageQuery, Principal, resolveMasterKeys, SecretBox, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalService, ApprovalSubjectHandler, ApprovalSubjectKind, AuditService } from '@ampora/governance';
import { endpointProblem, PEER_NAME, pinFrom } from './domain/peer-rules';
import { newSecret, parseSecret, secretHash, secretMatches } from './domain/secrets';
import { PeerEntity, PeerStatus } from './entities/peer.entity';
import { FederationErrorCode, FederationException } from './federation.errors';
import { FederationEvent, FederationEvents, FederationPeerChange } from './federation.events';
import { FederationStore } from './federation.store';

export interface CreatePeerInput {
  name: string;
  endpoint: string;
  remoteCertificatePem?: string;
  pinnedThumbprint?: string;
  remoteTenant?: string;
  /** The secret the peer presents to us: its outbound one when it made the pair, else generated. */
  inboundSecret?: string;
  /** The secret we present to the peer: its inbound one when it made the pair, else generated. */
  outboundSecret?: string;
}

export interface CreatedPeer {
  peer: PeerEntity;
  inboundSecret: string;
  outboundSecret: string;
  approvalId: string;
}

const sealContext = (id: string) => `federation_peers:${id}`;
const snapshot = (p: PeerEntity) => ({ name: p.name, endpoint: p.endpoint, pinnedThumbprint: p.pinnedThumbprint, remoteTenant: p.remoteTenant, status: p.status });

/**
 * Federation peers of a tenant (spec §7.2): registered by an Admin, Active only once another Admin
 * approved (the `FederationPeer` approval subject, decision 0261). The secrets are shown once, in the
 * creation's answer; what is kept of them is decision 0311's.
 */
@Injectable()
export class PeersService implements OnModuleInit, ApprovalSubjectHandler {
  private readonly box: SecretBox;

  constructor(
    private readonly store: FederationStore,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) config: AmporaConfig,
  ) {
    this.box = new SecretBox(resolveMasterKeys(config));
  }

  onModuleInit(): void {
    this.approvals.registerSubject(ApprovalSubjectKind.FederationPeer, this);
  }

  async create(p: Principal, input: CreatePeerInput): Promise<CreatedPeer> {
    if (!PEER_NAME.test(input.name)) throw invalid('name must be lower-case letters, digits and dashes (at most 63)');
    const problem = endpointProblem(input.endpoint);
    if (problem) throw invalid(problem);
    const pin = pinFrom(input);
    if ('problem' in pin) throw invalid(pin.problem);
    for (const [field, value] of [['inboundSecret', input.inboundSecret], ['outboundSecret', input.outboundSecret]] as const) {
      if (value !== undefined && !parseSecret(value)) throw invalid(`${field} must be 32 bytes, base64url (as the peer showed it)`);
    }
    const inboundSecret = input.inboundSecret ?? newSecret();
    const outboundSecret = input.outboundSecret ?? newSecret();
    if (inboundSecret === outboundSecret) throw invalid('the inbound and the outbound secret must differ');
    return this.tx.run(async (tx) => {
      if (await this.store.findPeerByName(p.tenantId, input.name, tx.manager)) {
        throw new FederationException(FederationErrorCode.FEDERATION_PEER_NAME_TAKEN, `A peer named ${input.name} exists`, { name: input.name });
      }
      const id = randomUUID();
      const now = this.clock.now();
      const peer = await this.store.insertPeer(tx.manager, {
        id,
        tenantId: p.tenantId,
        name: input.name,
        endpoint: input.endpoint.replace(/\/+$/, ''),
        pinnedThumbprint: pin.thumbprint,
        remoteCertificatePem: input.remoteCertificatePem ?? null,
        remoteTenant: input.remoteTenant ?? p.tenantName,
        inboundSecretHash: secretHash(inboundSecret),
        outboundSecretHash: secretHash(outboundSecret),
        outboundSecretSealed: this.box.seal(Buffer.from(outboundSecret, 'utf8'), sealContext(id)),
        status: 'PendingApproval',
        createdBy: p.actor,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.record(tx.manager, { entityType: 'FederationPeer', entityId: id, action: 'Created', after: snapshot(peer) });
      const approval = await this.approvals.request(tx, p, { subjectKind: ApprovalSubjectKind.FederationPeer, subjectId: id, title: `Federation peer ${peer.name} (${peer.endpoint})`, before: null, after: snapshot(peer) });
      this.publish(tx, peer, 'requested');
      return { peer, inboundSecret, outboundSecret, approvalId: approval.id };
    });
  }

  async onApproved(tx: Tx, request: { tenantId: string; subjectId: string; id: string }): Promise<void> {
    await this.decide(tx, request.tenantId, request.subjectId, 'Active', { approvalId: request.id });
  }

  async onRejected(tx: Tx, request: { tenantId: string; subjectId: string; id: string }, reason: string): Promise<void> {
    await this.decide(tx, request.tenantId, request.subjectId, 'Rejected', { approvalId: request.id, reason });
  }

  private async decide(tx: Tx, tenantId: string, id: string, status: PeerStatus, additional: Record<string, unknown>): Promise<void> {
    const row = await this.store.lockPeer(tx.manager, tenantId, id);
    if (!row) return;
    const before = snapshot(row);
    row.status = status;
    row.updatedAt = this.clock.now();
    const saved = await this.store.savePeer(tx.manager, row);
    await this.audit.record(tx.manager, { tenantId, entityType: 'FederationPeer', entityId: id, action: status === 'Active' ? 'Activated' : 'Rejected', before, after: snapshot(saved), additional });
    this.publish(tx, saved, status === 'Active' ? 'activated' : 'rejected');
  }

  async delete(p: Principal, id: string): Promise<void> {
    await this.tx.run(async (tx) => {
      const row = await this.store.lockPeer(tx.manager, p.tenantId, id);
      if (!row) throw notFound(id);
      if (row.status === 'PendingApproval') await this.approvals.withdraw(tx, p.tenantId, ApprovalSubjectKind.FederationPeer, id, 'the peer was deleted');
      await this.store.deletePeer(tx.manager, id);
      await this.audit.record(tx.manager, { entityType: 'FederationPeer', entityId: id, action: 'Deleted', before: snapshot(row) });
      this.publish(tx, row, 'deleted');
    });
  }

  list(tenantId: string, page: PageQuery): Promise<Page<PeerEntity>> {
    return this.store.listPeers(tenantId, page);
  }

  async get(tenantId: string, id: string): Promise<PeerEntity> {
    const row = await this.store.findPeer(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  /** The tenant's Active peer of this name (FEDERATION_PEER_NOT_FOUND / NOT_ACTIVE otherwise). */
  async activeByName(tenantId: string, name: string): Promise<PeerEntity> {
    const row = await this.store.findPeerByName(tenantId, name);
    if (!row) throw new FederationException(FederationErrorCode.FEDERATION_PEER_NOT_FOUND, `No federation peer named ${name}`, { name });
    if (row.status !== 'Active') throw new FederationException(FederationErrorCode.FEDERATION_PEER_NOT_ACTIVE, `The peer ${name} is ${row.status}`, { name, status: row.status });
    return row;
  }

  activePeers(tenantId: string): Promise<PeerEntity[]> {
    return this.store.activePeers(tenantId);
  }

  /** The outbound secret to present to the peer (never leaves the process otherwise). */
  outboundSecretOf(peer: PeerEntity): string {
    return this.box.open(peer.outboundSecretSealed, sealContext(peer.id)).plaintext.toString('utf8');
  }

  /**
   * The Active peer a caller is: one pinning the certificate it presented whose inbound secret the
   * presented one matches (hashes compared in constant time, every candidate compared).
   */
  async authenticateInbound(clientThumbprint: string, secret: string | undefined): Promise<{ ok: true; peer: PeerEntity } | { ok: false; reason: 'unknown-certificate' | 'secret' }> {
    const candidates = await this.store.activePeersPinning(clientThumbprint);
    if (candidates.length === 0) return { ok: false, reason: 'unknown-certificate' };
    let match: PeerEntity | undefined;
    for (const peer of candidates) if (secretMatches(secret ?? '', peer.inboundSecretHash) && !match) match = peer;
    return match ? { ok: true, peer: match } : { ok: false, reason: 'secret' };
  }

  private publish(tx: Tx, peer: PeerEntity, change: FederationPeerChange): void {
    tx.afterCommit(() => this.bus.publish<FederationEvent>({ type: FederationEvents.PeerChanged, tenantId: peer.tenantId, entityId: peer.id, payload: { peerId: peer.id, name: peer.name, change } }));
  }
}

function invalid(message: string): FederationException {
  return new FederationException(FederationErrorCode.FEDERATION_PEER_INVALID, message);
}

function notFound(id: string): FederationException {
  return new FederationException(FederationErrorCode.FEDERATION_PEER_NOT_FOUND, 'No such federation peer', { peerId: id });
}
