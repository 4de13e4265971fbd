import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, hashToken, isEvent, isWellFormedToken, LiveBus, Metrics, STORM_BATCH_SPACING_MS, TenantLabels, TransactionRunner, TurnBatch } from '@ampora/platform';
import { AuditService, PreparedAuditEvent } from '@ampora/governance';
import {
  AGENT_CERTIFICATES,
  AgentAuthenticator,
  AgentCertificates,
  AgentCertificateState,
  AgentRef,
  AttachedAgent,
  AttachOutcome,
  AgentCap,
  AttachRequest,
  AuthOutcome,
  CertificateOfferStatus,
  ConnectInput,
  DesiredConfig,
  hasCapability,
  newInstanceUid,
  sharedDesiredConfig,
  uidFromString,
  uidToString,
} from '@ampora/opamp';
import { AssignmentService } from '../assignment/assignment.service';
import { BootstrapTokenRepository, RedemptionRequest, RedemptionRow } from '../bootstrap/bootstrap-token.repository';
import { bootstrapTokenExpired } from '../bootstrap/domain/token-expiry';
import { BootstrapTokenEntity } from '../bootstrap/entities/bootstrap-token.entity';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentAttachRow, AgentRepository } from './agent.repository';
import { AdmissionGate } from './domain/admission-gate';
import { RecentCache } from './domain/recent-cache';
import { fromStoredFiles } from './domain/stored-config';
import { StoredConfigFiles } from './entities/agent.entity';

type Redemption = 'redeemed' | 'expired' | 'consumed' | 'revoked' | 'unknown' | 'malformed';

/** How long a looked-up bootstrap token is trusted without reading it again (HTTP agents poll). */
const TOKEN_CACHE_MS = 5000;
/** At most this many token rows are cached (an enrolment storm of more within TOKEN_CACHE_MS reads the rest). */
const TOKEN_CACHE_MAX = 10_000;
/** At most this many assignment reads share one statement. */
const ASSIGNMENT_READ_BATCH_MAX = 1000;
/** Assignment reads of the same agent and known hash in one turn are asked once. */
const assignmentReadKey = (r: { id: string; knownHash: string | undefined }) => `${r.id} ${r.knownHash ?? ''}`;
/** At most this many token lookups share one statement. */
const LOOKUP_BATCH_MAX = 500;
/** At most this many reconnecting agents are read together. */
const REATTACH_BATCH_MAX = 500;
/** At most this many first connections are redeemed by one statement. */
const REDEMPTION_BATCH_MAX = 200;
/** A first connection's redemption, with its audit event made in its own context (decision 0440). */
interface PendingRedemption extends RedemptionRequest {
  audit: PreparedAuditEvent;
}
/** Redemptions of the same token by the same uid in one batch are asked once. */
const redemptionKey = (r: RedemptionRequest) => `${r.tokenId} ${r.instanceUid}`;
/**
 * Batches of each kind running at once (decision 0431): what connecting agents ask meanwhile
 * gathers into the next batch instead of queueing behind the admission gate as batches of one. Each
 * kind also goes at most once per STORM_BATCH_SPACING_MS (decision 0442).
 */
const BATCHES_IN_FLIGHT = 1;

/** An agent's stored assignment as the config its session holds: the object every session of that hash shares (decision 0427). */
function assignedDesired(hash: string | null, config: StoredConfigFiles | null): DesiredConfig | undefined {
  return hash && config ? sharedDesiredConfig(hash, () => fromStoredFiles(config)) : undefined;
}

/**
 * Who an agent is. Bootstrap tokens (`Authorization: Bearer amp-bs...`) are redeemed on the first
 * frame, in one transaction that consumes the token and creates the agent; from then on the token is
 * bound to that agent (by instance uid) and refused to any other. Agents with an Ampora certificate
 * are found by its SHA-256 fingerprint, never by instance uid.
 */
@Injectable()
export class FleetAgentAuthenticator implements AgentAuthenticator {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentAuthenticator');
  /** Token rows by hash, trusted for TOKEN_CACHE_MS (host time, decision 0220). */
  private readonly tokenCache = new RecentCache<string, BootstrapTokenEntity>({ ttlMs: TOKEN_CACHE_MS, max: TOKEN_CACHE_MAX });
  /**
   * The database work of connecting agents (token lookups, redemptions, attaches) takes at most half
   * the pool at once (decision 0392): in an enrolment or reconnect storm the others wait their turn
   * here instead of timing out on the pool, and the state writer, leases and the API keep connections.
   */
  private readonly gate: AdmissionGate;
  /** Assignment reads asked for in one turn of the event loop, one statement (decision 0425). */
  private readonly assignmentReads = new TurnBatch<{ tenantId: string; id: string; knownHash: string | undefined }, { hash: string | null; config: StoredConfigFiles | null }>({
    key: assignmentReadKey,
    max: ASSIGNMENT_READ_BATCH_MAX,
    inFlight: BATCHES_IN_FLIGHT,
    spacingMs: STORM_BATCH_SPACING_MS,
    run: async (requests) => {
      const rows = await this.agents.assignmentsUnless(requests);
      const answers = new Map<string, { hash: string | null; config: StoredConfigFiles | null }>();
      requests.forEach((r, i) => rows[i] && answers.set(assignmentReadKey(r), rows[i]!));
      return answers;
    },
  });
  /** Token lookups asked for in one turn of the event loop, by token hash, one statement in one gate slot (decision 0425). */
  private readonly tokenLookups = new TurnBatch<string, BootstrapTokenEntity>({
    key: (hash) => hash,
    max: LOOKUP_BATCH_MAX,
    inFlight: BATCHES_IN_FLIGHT,
    spacingMs: STORM_BATCH_SPACING_MS,
    run: (hashes) => this.gate.run(() => this.tokens.findByHashes(hashes)),
  });
  /** Agents back with their bound tokens in one turn of the event loop: their rows and certificates, in one gate slot (decision 0425). */
  private readonly reattachReads = new TurnBatch<string, { agent: AgentAttachRow | undefined; certificates: AgentCertificateState }>({
    key: (id) => id,
    max: REATTACH_BATCH_MAX,
    inFlight: BATCHES_IN_FLIGHT,
    spacingMs: STORM_BATCH_SPACING_MS,
    run: (ids) =>
      this.gate.run(async () => {
        // one after the other: a batch holds one pool connection at a time, as any task of the gate
        const agents = new Map((await this.agents.attachRowsByIds(ids)).map((a) => [a.id, a]));
        const states = this.certificates.certificateStates
          ? await this.certificates.certificateStates(ids)
          : new Map(await Promise.all(ids.map(async (id) => [id, await this.certificates.certificateState(id)] as const)));
        return new Map(ids.map((id) => [id, { agent: agents.get(id), certificates: states.get(id) ?? 'none' }]));
      }),
  });
  /**
   * First connections' redemptions asked for in one turn of the event loop, or while a batch ran: one
   * statement in one gate slot (decision 0440). An enrolment storm then costs a statement, a commit
   * and a plan per batch instead of per agent.
   */
  private readonly redemptions = new TurnBatch<PendingRedemption, RedemptionRow & { at: Date }>({
    key: redemptionKey,
    max: REDEMPTION_BATCH_MAX,
    inFlight: BATCHES_IN_FLIGHT,
    spacingMs: STORM_BATCH_SPACING_MS,
    run: (requests) => this.redeemBatch(requests),
  });
  constructor(
    private readonly clock: Clock,
    /** The PKI's agent ↔ certificate binding (PkiModule's AGENT_CERTIFICATES). */
    @Inject(AGENT_CERTIFICATES) private readonly certificates: AgentCertificates,
    private readonly tokens: BootstrapTokenRepository,
    private readonly agents: AgentRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly assignment: AssignmentService,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    bus: LiveBus,
  ) {
    this.gate = new AdmissionGate(Math.max(1, Math.floor(config.database.poolMax / 2)));
    // a token revoked on any instance is forgotten here at once (the cache would trust it 5 s more)
    bus.subscribe(
      (event) => {
        // a revoked token, or the tokens of forgotten agents (revoked with them)
        const ids = new Set<string | undefined>();
        if (isEvent<FleetEvent, typeof FleetEvents.BootstrapTokenRevoked>(event, FleetEvents.BootstrapTokenRevoked)) ids.add(event.payload?.tokenId);
        if (isEvent<FleetEvent, typeof FleetEvents.AgentsForgotten>(event, FleetEvents.AgentsForgotten) && Array.isArray(event.payload?.tokenIds)) for (const id of event.payload.tokenIds) ids.add(id);
        this.tokenCache.deleteWhere((row) => ids.has(row.id));
      },
      { name: 'fleet.bootstrap-token-cache', filter: (event) => event.type === FleetEvents.BootstrapTokenRevoked || event.type === FleetEvents.AgentsForgotten },
    );
  }

  async authenticate(input: ConnectInput): Promise<AuthOutcome> {
    if (input.clientCertificate) {
      const owner = await this.certificates.agentFor(input.clientCertificate.fingerprint);
      if (!owner) return { ok: false, reason: 'the client certificate belongs to no agent' };
      return { ok: true, credential: { kind: 'certificate', fingerprint: input.clientCertificate.fingerprint, tenantId: owner.tenantId, agentId: owner.agentId } };
    }
    const header = input.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) return { ok: false, reason: 'no credentials: send Authorization: Bearer amp-bs.<secret>.<check> or a client certificate' };
    const token = match[1]!;
    if (!isWellFormedToken(token, 'amp-bs')) return this.refuse('malformed', undefined, 'the bootstrap token is malformed or truncated');
    const row = await this.lookup(hashToken(token));
    if (!row) return this.refuse('unknown', undefined, 'unknown bootstrap token');
    if (row.revokedAt) return this.refuse('revoked', row.tenantId, 'the bootstrap token was revoked');
    if (row.redeemedAt) return { ok: true, credential: { kind: 'bootstrap', tokenId: row.id, tenantId: row.tenantId, boundAgentId: row.agentId ?? undefined } };
    if (bootstrapTokenExpired(row, this.clock.nowMs())) return this.refuse('expired', row.tenantId, 'the bootstrap token expired');
    return { ok: true, credential: { kind: 'bootstrap', tokenId: row.id, tenantId: row.tenantId } };
  }

  attach(request: AttachRequest): Promise<AttachOutcome> {
    const credential = request.credential;
    if (credential.kind === 'bootstrap') {
      // back with its bound token, or its first connection (a redemption batch takes its own gate slot)
      return credential.boundAgentId ? this.reattach(request, credential.boundAgentId) : this.redeem(request, uidToString(request.instanceUid));
    }
    return this.gate.run(() => this.attachByCertificate(request, credential));
  }

  /**
   * An agent back with the bootstrap token it enrolled with (every agent after a restart): its agent
   * row and its certificates' state are read with those of every other agent back in the same turn
   * of the event loop, two statements in one slot of the admission gate (decision 0425).
   */
  private async reattach(request: AttachRequest, agentId: string): Promise<AttachOutcome> {
    const { agent, certificates } = (await this.reattachReads.ask(agentId))!;
    if (!agent) return { ok: false, reason: 'the agent of this bootstrap token no longer exists' };
    return this.boundAttach(request, agent, certificates);
  }

  /** An agent with a client certificate: its first connection binds the certificate to a new agent. */
  private async attachByCertificate(request: AttachRequest, credential: Extract<AttachRequest['credential'], { kind: 'certificate' }>): Promise<AttachOutcome> {
    const uid = uidToString(request.instanceUid);
    if (!credential.agentId) return this.enrolByCertificate(credential, request, uid);
    const agent = await this.agents.findById(credential.agentId);
    if (!agent) return { ok: false, reason: 'the certificate\'s agent no longer exists' };
    if (agent.movedToPeer) return { ok: false, reason: `this agent was handed over to peer ${agent.movedToPeer}: connect there` };
    if (agent.certFingerprint !== credential.fingerprint) await this.agents.setCertificate(agent.id, credential.fingerprint);
    return { ok: true, agent: await this.withUid(agent, uid, request.requestNewUid) };
  }

  /** The checks of an agent back with its bound bootstrap token, on its row and its certificates' state. */
  private async boundAttach(request: AttachRequest, agent: AgentAttachRow, certificates: AgentCertificateState): Promise<AttachOutcome> {
    const uid = uidToString(request.instanceUid);
    if (agent.movedToPeer) return { ok: false, reason: `this agent was handed over to peer ${agent.movedToPeer}: connect there` };
    if (certificates === 'revoked') return { ok: false, reason: 'this agent\'s certificate was revoked: enrol it again with a new bootstrap token' };
    // Decision 0121: only a certificate the agent has connected with binds it to mTLS ('unused' ones
    // do not), and an agent that takes connection settings may come back with its token for a new
    // one (the OpAMP Supervisor forgets offered settings when it restarts).
    if (this.config.opamp.requireMtls && certificates === 'valid') {
      if (!this.config.opamp.tokenReissue || !hasCapability(request.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) {
        return { ok: false, reason: 'this agent holds a certificate: connect with mTLS' };
      }
      if (agent.instanceUid === uid) this.log.warn('Agent {AgentId} holds a certificate but came back with its bootstrap token: admitted to take a new one (AMPORA_OPAMP_TOKEN_REISSUE)', { AgentId: agent.id });
    }
    if (agent.instanceUid !== uid) {
      this.count('consumed', agent.tenantId);
      return { ok: false, reason: 'this bootstrap token was redeemed by another agent' };
    }
    return { ok: true, agent: await this.withUid(agent, uid, request.requestNewUid) };
  }

  /** The agent's latest certificate offer and what became of it (PKI), shown on the agent. */
  async certificateOffer(agentId: string): Promise<CertificateOfferStatus | undefined> {
    return this.certificates.latestOffer?.(agentId);
  }

  /**
   * What the agent was assigned since its session read it. The reads asked for in one turn of the
   * event loop share one statement (decision 0425): after a restart every reconnecting session asks,
   * right after its lease, and the leases of a turn are taken together.
   */
  async assignmentSince(agent: AgentRef, knownHash: string | undefined): Promise<DesiredConfig | null | undefined> {
    const row = await this.assignmentReads.ask({ tenantId: agent.tenantId, id: agent.agentId, knownHash });
    if (!row || row.hash === (knownHash ?? null)) return undefined;
    return assignedDesired(row.hash, row.config) ?? null;
  }

  async reassignInstanceUid(agentId: string): Promise<Buffer> {
    const uid = newInstanceUid();
    await this.agents.setInstanceUid(agentId, uidToString(uid));
    return uid;
  }

  /**
   * The first connection with a bootstrap token: one statement (decision 0415), shared with the other
   * first connections of its batch (decision 0440), locks the token, makes the agent in the token's
   * group, marks the token redeemed and writes the audit event. A uid that another agent of the tenant
   * has (or RequestInstanceUid) gives the new agent a new one.
   */
  private async redeem(request: AttachRequest, uid: string): Promise<AttachOutcome> {
    const credential = request.credential as Extract<AttachRequest['credential'], { kind: 'bootstrap' }>;
    let instanceUid = request.requestNewUid ? uidToString(newInstanceUid()) : uid;
    for (let attempt = 0; ; attempt++) {
      const audit = this.audit.prepare({
        tenantId: credential.tenantId,
        actor: `agent:${instanceUid}`,
        actorRole: null,
        entityType: 'BootstrapToken',
        entityId: credential.tokenId,
        action: 'Redeemed',
        additional: { instanceUid, transport: request.transport },
      });
      const { token, agent, at } = (await this.redemptions.ask({ tokenId: credential.tokenId, instanceUid, capabilities: request.capabilities.toString(), audit }))!;
      if (!token || token.revokedAt) return this.refuseAttach('revoked', credential.tenantId, 'the bootstrap token was revoked');
      if (token.redeemedAt) {
        // redeemed meanwhile (read afresh: the statement's snapshot may predate the redeemer's agent)
        const owner = token.agentId ? await this.gate.run(() => this.agents.findById(token.agentId!)) : null;
        if (owner && owner.instanceUid === uid) return { ok: true, agent: this.attached(owner, false) };
        return this.refuseAttach('consumed', token.tenantId, 'this bootstrap token was redeemed by another agent');
      }
      if (bootstrapTokenExpired(token, at.getTime())) return this.refuseAttach('expired', token.tenantId, 'the bootstrap token expired');
      if (!agent) {
        // another agent of the tenant has this uid: the new agent gets a new one
        if (attempt > 0) throw new Error(`bootstrap token ${token.id}: no agent could be inserted`);
        instanceUid = uidToString(newInstanceUid());
        continue;
      }
      this.count('redeemed', token.tenantId);
      this.tokenCache.set(token.tokenHash, { ...token, redeemedAt: at, agentId: agent.id }, Date.now());
      if (token.groupId && !agent.groupId) {
        this.log.warn('Bootstrap token {TokenId} targets group {GroupId}, which no longer exists; the agent joins no group', { TokenId: token.id, GroupId: token.groupId });
      }
      this.log.info('Agent {AgentId} enrolled with bootstrap token {TokenId}', { AgentId: agent.id, TokenId: token.id, InstanceUid: instanceUid, GroupId: agent.groupId });
      return {
        ok: true,
        agent: {
          agentId: agent.id,
          tenantId: token.tenantId,
          agentType: agent.agentType,
          instanceUid: uidFromString(instanceUid)!,
          uidChanged: instanceUid !== uid,
          desired: assignedDesired(agent.assignedConfigHash, agent.assignedConfig),
          enrolled: true,
        },
      };
    }
  }

  /**
   * One batch of redemptions (decision 0440): one statement in one gate slot, at one time. A token
   * asked for by two uids at once goes in a second statement after the first, which then finds it
   * redeemed.
   */
  private async redeemBatch(requests: readonly PendingRedemption[]): Promise<Map<string, RedemptionRow & { at: Date }>> {
    const answers = new Map<string, RedemptionRow & { at: Date }>();
    let rest = requests;
    while (rest.length > 0) {
      const tokens = new Set<string>();
      const now: PendingRedemption[] = [];
      const later: PendingRedemption[] = [];
      for (const r of rest) {
        if (tokens.has(r.tokenId)) later.push(r);
        else {
          tokens.add(r.tokenId);
          now.push(r);
        }
      }
      const at = this.clock.now();
      const rows = await this.gate.run(() =>
        this.tokens.redeem(now, at, (param) =>
          this.audit.recordEachInStatement(
            now.map((r) => r.audit),
            { name: 'audit', gate: 'agent', match: 'agent.bootstrap_token_id::text', additionalSql: `jsonb_build_object('agentId', agent.id, 'groupId', agent.group_id)`, param },
          ),
        ),
      );
      now.forEach((r, i) => answers.set(redemptionKey(r), { ...rows[i]!, at }));
      this.publishEnrolments(rows);
      rest = later;
    }
    return answers;
  }

  /**
   * The group memberships a redemption statement made, as one `group.membership_changed` per tenant
   * and group (decision 0449): an enrolment storm publishes one event per batch, not one per agent.
   */
  private publishEnrolments(rows: readonly RedemptionRow[]): void {
    const moves = new Map<string, Array<{ agentId: string; from: null; to: string }>>();
    for (const { token, agent } of rows) {
      if (!token || !agent?.groupId) continue;
      const list = moves.get(token.tenantId) ?? [];
      list.push({ agentId: agent.id, from: null, to: agent.groupId });
      moves.set(token.tenantId, list);
    }
    for (const [tenantId, list] of moves) this.assignment.publishMembership(tenantId, list, 'enrolled with a bootstrap token');
  }

  /**
   * The first connection of a certificate signed through the API (no agent yet): one transaction binds
   * the certificate to a new agent of its tenant (decision 0064). Two racing connections see one agent.
   */
  private async enrolByCertificate(credential: Extract<AttachRequest['credential'], { kind: 'certificate' }>, request: AttachRequest, uid: string): Promise<AttachOutcome> {
    const certificates = this.certificates;
    return this.tx.run(async ({ manager, afterCommit }): Promise<AttachOutcome> => {
      let instanceUid = uid;
      const { agentId, created } = await certificates.bindOnce(manager, credential.fingerprint, async () => {
        if (request.requestNewUid || (await this.agents.uidTaken(credential.tenantId, uid, undefined, manager))) instanceUid = uidToString(newInstanceUid());
        const agent = await this.agents.insert(manager, {
          tenantId: credential.tenantId,
          instanceUid,
          identityKind: 'certificate',
          certFingerprint: credential.fingerprint,
          capabilities: request.capabilities.toString(),
        });
        await this.audit.record(manager, {
          tenantId: credential.tenantId,
          actor: `agent:${instanceUid}`,
          actorRole: null,
          entityType: 'Agent',
          entityId: agent.id,
          action: 'Enrolled',
          additional: { via: 'certificate', fingerprint: credential.fingerprint, instanceUid, transport: request.transport },
        });
        afterCommit(() => this.log.info('Agent {AgentId} enrolled with a certificate signed through the API', { AgentId: agent.id, InstanceUid: instanceUid }));
        return agent.id;
      });
      const agent = await this.agents.findById(agentId, manager);
      if (!agent) return { ok: false, reason: 'the certificate\'s agent no longer exists' };
      if (created) return { ok: true, agent: { ...this.attached(agent, instanceUid !== uid), enrolled: true } };
      credential.agentId = agentId;
      return { ok: true, agent: this.attached(agent, false) };
    });
  }

  /** Attaches with the agent's uid, assigning a new one when asked to or when another agent has it. */
  private async withUid(agent: AgentAttachRow, uid: string, requestNew: boolean): Promise<AttachedAgent> {
    if (requestNew) {
      const fresh = uidToString(newInstanceUid());
      await this.agents.setInstanceUid(agent.id, fresh);
      agent.instanceUid = fresh;
      return this.attached(agent, true);
    }
    if (agent.instanceUid !== uid) {
      // a certificate agent restarted with another uid: keep it unless it collides
      if (await this.agents.uidTaken(agent.tenantId, uid, agent.id)) {
        const fresh = uidToString(newInstanceUid());
        await this.agents.setInstanceUid(agent.id, fresh);
        agent.instanceUid = fresh;
        return this.attached(agent, true);
      }
      await this.agents.setInstanceUid(agent.id, uid);
      agent.instanceUid = uid;
    }
    return this.attached(agent, false);
  }

  private attached(agent: AgentAttachRow, uidChanged: boolean): AttachedAgent {
    return {
      agentId: agent.id,
      tenantId: agent.tenantId,
      agentType: agent.agentType,
      instanceUid: uidFromString(agent.instanceUid)!,
      uidChanged,
      desired: assignedDesired(agent.assignedConfigHash, agent.assignedConfig),
      failedConfigHash: agent.failedConfigHash ?? undefined,
      reportedConfigHash: agent.remoteConfigHash ?? undefined,
    };
  }

  private async lookup(tokenHash: string): Promise<BootstrapTokenEntity | null> {
    const cached = this.tokenCache.get(tokenHash, Date.now());
    if (cached) return cached;
    const row = (await this.tokenLookups.ask(tokenHash)) ?? null;
    if (row) this.tokenCache.set(tokenHash, row, Date.now());
    else this.tokenCache.delete(tokenHash);
    return row;
  }

  private count(outcome: Redemption, tenantId: string | undefined): void {
    Metrics.add('ampora_opamp_bootstrap_redemptions_total', 1, { tenant: TenantLabels.of(tenantId), outcome });
  }

  private refuse(outcome: Redemption, tenantId: string | undefined, reason: string): AuthOutcome {
    this.count(outcome, tenantId);
    // a revoked token is known but may not connect (403); the rest did not prove who they are (401)
    return { ok: false, reason, tenantId, forbidden: outcome === 'revoked' };
  }

  private refuseAttach(outcome: Redemption, tenantId: string, reason: string): AttachOutcome {
    this.count(outcome, tenantId);
    return { ok: false, reason };
  }
}
