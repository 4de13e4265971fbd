import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { Repository } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, JobProducer, LiveBus, Principal, RequestContext, TransactionRunner } from '@ampora/platform';
import { AuditService, TenantService } from '@ampora/governance';
import { FleetReads } from '@ampora/fleet';
import { CreateRolloutSchema } from '@ampora/rollouts';
import { PeerCallError } from '../client/peer-call';
import { PeerClient } from '../client/peer-client';
import {
  controlActions,
  controlTarget,
  Coordination,
  decideTick,
  FederatedControl,
  FederatedRolloutState,
  Leg,
  LegAction,
  legName,
  PreflightAnswer,
  preflightOf,
  preflightProblems,
  ZERO_LEG_COUNTS,
} from '../domain/federated-rollout';
import { FederatedRolloutEntity } from '../entities/federated-rollout.entity';
import { PeerEntity } from '../entities/peer.entity';
import { FederationErrorCode, FederationException } from '../federation.errors';
import { FederationEvent, FederationEvents } from '../federation.events';
import { FEDERATION_QUEUE, FederatedRolloutTickJob, federatedTickSchedulerId } from '../federation.jobs';
import { PeersService } from '../peers.service';
import { LegSnapshot, LegSpec, LocalLegs } from './local-legs';

export interface CreateFederatedRolloutInput {
  name: string;
  configurationId: string;
  version: number;
  groupName: string;
  targets: Array<{ peer?: string; groupName?: string }>;
  coordination: Coordination;
  strategy?: Record<string, unknown>;
  gates?: Record<string, unknown>;
  ordering?: string;
  autoAdvance?: boolean;
  dwellSeconds?: number;
}

const FINISHED: readonly FederatedRolloutState[] = ['Completed', 'Failed', 'RolledBack'];

/**
 * Federated rollouts (issue 19, decision 0370): created here with a pre-flight on every target, run
 * as one leg per deployment (that deployment's own rollout, under its RBAC, policies, gates and
 * audit), coordinated by a tick that reads every leg, aggregates, propagates a pause, abort or
 * rollback, and for `Synchronized` advances the legs together.
 */
@Injectable()
export class FederatedRolloutsService {
  private readonly log = createLogger('Ampora.Federation.FederatedRollouts');
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    @InjectRepository(FederatedRolloutEntity) private readonly repo: Repository<FederatedRolloutEntity>,
    private readonly peers: PeersService,
    private readonly client: PeerClient,
    private readonly local: LocalLegs,
    private readonly reads: FleetReads,
    private readonly tenants: TenantService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly bus: LiveBus,
    private readonly producer: JobProducer,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async create(p: Principal, input: CreateFederatedRolloutInput): Promise<FederatedRolloutEntity> {
    const version = await this.reads.versionByNumber(p.tenantId, input.configurationId, input.version);
    if (!version) throw new FederationException(FederationErrorCode.FEDERATION_VERSION_NOT_PUBLISHED, `Configuration ${input.configurationId} has no version ${input.version}`);
    const plan = {
      ...(input.strategy ? { strategy: input.strategy } : {}),
      ...(input.gates ? { gates: input.gates } : {}),
      ...(input.ordering ? { ordering: input.ordering } : {}),
      // Synchronized: the coordinator advances every leg together, so no leg advances by itself
      ...(input.coordination === 'Synchronized' ? { autoAdvance: false } : input.autoAdvance !== undefined ? { autoAdvance: input.autoAdvance } : {}),
      dwellSeconds: input.dwellSeconds ?? 0,
    };
    // the plan is checked here as every target will check it (the same rollouts API), before anything is asked of a peer
    const checked = CreateRolloutSchema.safeParse({ ...plan, name: input.name, configurationId: input.configurationId, version: input.version, groupId: randomUUID() });
    if (!checked.success) throw new FederationException(FederationErrorCode.FEDERATED_ROLLOUT_INVALID, `The rollout plan is invalid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const names = input.targets.map((t) => t.peer ?? null);
    if (new Set(names).size !== names.length) throw new FederationException(FederationErrorCode.FEDERATION_PEER_INVALID, 'a deployment is named twice in targets');
    const peers = new Map<string, PeerEntity>();
    for (const n of names) if (n !== null) peers.set(n, await this.peers.activeByName(p.tenantId, n));
    // pre-flight: the same content, Published, on every target (content never travels)
    const answers = await Promise.all(
      input.targets.map(async (t) => ({ target: t.peer ?? 'local', answer: t.peer ? await this.remotePreflight(peers.get(t.peer)!, version.configurationName, version.contentHash) : preflightOf(version, version.configurationName) })),
    );
    const problems = preflightProblems(answers);
    if (problems.length > 0) {
      throw new FederationException(FederationErrorCode.FEDERATION_PREFLIGHT_FAILED, `Version ${input.version} of ${version.configurationName} is not Published with the same content on every target: ${problems.map((x) => `${x.target}: ${x.problem}`).join('; ')}`, { targets: problems });
    }
    const now = this.clock.now();
    const legs: Leg[] = input.targets.map((t) => ({
      peer: t.peer ?? null,
      groupName: t.groupName ?? input.groupName,
      rolloutId: null,
      state: 'Held',
      reason: 'not opened yet',
      currentStep: null,
      stepCount: 0,
      waitingFor: null,
      counts: { ...ZERO_LEG_COUNTS },
      gate: null,
      rollbackState: null,
      seenAt: null,
      unreachable: null,
    }));
    const row = await this.tx.run(async (tx) => {
      const saved = await tx.manager.getRepository(FederatedRolloutEntity).save({
        id: randomUUID(),
        tenantId: p.tenantId,
        name: input.name,
        configurationName: version.configurationName,
        versionNumber: version.version,
        contentHash: version.contentHash,
        coordination: input.coordination,
        plan,
        state: 'InProgress' as FederatedRolloutState,
        reason: null,
        legs,
        createdBy: p.actor,
        createdAt: now,
        updatedAt: now,
        finishedAt: null,
      });
      await this.audit.record(tx.manager, { entityType: 'FederatedRollout', entityId: saved.id, action: 'Created', after: { name: saved.name, configuration: saved.configurationName, version: saved.versionNumber, contentHash: saved.contentHash, coordination: saved.coordination, targets: legs.map((l) => ({ deployment: legName(l), group: l.groupName })), plan } });
      return saved;
    });
    this.log.info('Federated rollout {FederatedRolloutId} ({Name}) created: {Configuration} v{Version} on {Legs} deployments, {Coordination}', { FederatedRolloutId: row.id, Name: row.name, Configuration: row.configurationName, Version: row.versionNumber, Legs: legs.length, Coordination: row.coordination });
    await this.schedule(p.tenantId, row.id);
    await this.tick(row.id, p);
    return this.get(p.tenantId, row.id);
  }

  async get(tenantId: string, id: string): Promise<FederatedRolloutEntity> {
    const row = await this.repo.findOne({ where: { tenantId, id } });
    if (!row) throw new FederationException(FederationErrorCode.FEDERATED_ROLLOUT_NOT_FOUND, `Federated rollout ${id} was not found`);
    return row;
  }

  /** pause / resume / abort / rollback on every leg; the answer shows each leg after it. */
  async control(p: Principal, id: string, control: FederatedControl): Promise<FederatedRolloutEntity> {
    const row = await this.get(p.tenantId, id);
    const to = controlTarget(row.state, control);
    if (!to) throw new FederationException(FederationErrorCode.FEDERATED_ROLLOUT_ILLEGAL_TRANSITION, `Federated rollout ${id} is ${row.state}; it cannot ${control}`, { state: row.state, action: control });
    await this.setState(row, to, `${control} by ${p.actor}`, p);
    if (control === 'resume') {
      const legs = [...row.legs];
      await this.perform(row, legs, controlActions('resume', legs), p);
      await this.saveLegs(row.id, legs);
    }
    // a control may give a settled rollout work again (a rollback after an abort): the ticks resume until it settles
    await this.schedule(p.tenantId, id);
    await this.tick(id, p);
    return this.get(p.tenantId, id);
  }

  /** Ticks the federated rollout every AMPORA_FEDERATION_ROLLOUT_TICK_MS until it settles. */
  private async schedule(tenantId: string, id: string): Promise<void> {
    await this.producer
      .queue(FEDERATION_QUEUE.name)
      .upsertJobScheduler(federatedTickSchedulerId(id), { every: this.config.federation.rolloutTickMs }, { name: FEDERATION_QUEUE.jobs.rolloutTick, data: { tenantId, trace: {}, payload: { federatedRolloutId: id } satisfies FederatedRolloutTickJob }, opts: { removeOnComplete: true, removeOnFail: { age: 3600 } } });
  }

  /** One look at every leg; several calls for one rollout in this process run one after another. */
  async tick(id: string, caller?: Principal): Promise<FederatedRolloutState | 'gone'> {
    const before = this.running.get(id) ?? Promise.resolve();
    let outcome: FederatedRolloutState | 'gone' = 'gone';
    const run = before.then(async () => {
      outcome = await this.tickOnce(id, caller);
    });
    const settled = run.catch(() => undefined);
    this.running.set(id, settled);
    try {
      await run;
    } finally {
      if (this.running.get(id) === settled) this.running.delete(id);
    }
    return outcome;
  }

  private async tickOnce(id: string, caller?: Principal): Promise<FederatedRolloutState | 'gone'> {
    const row = await this.repo.findOne({ where: { id } });
    if (!row) {
      await this.unschedule(id);
      return 'gone';
    }
    const legs = [...row.legs];
    await Promise.all(legs.map(async (leg, i) => (legs[i] = await this.refresh(row, leg))));
    const decision = decideTick(row.state, row.coordination, legs);
    await this.perform(row, legs, decision.actions, caller);
    await this.saveLegs(row.id, legs);
    if (decision.state !== row.state) await this.setState(row, decision.state, decision.reason, caller);
    const settled = FINISHED.includes(decision.state) && decideTick(decision.state, row.coordination, legs).actions.length === 0 && legs.every((l) => l.rollbackState === null || !['Pending', 'InProgress', 'Paused'].includes(l.rollbackState));
    if (settled) await this.unschedule(id);
    return decision.state;
  }

  private async perform(row: FederatedRolloutEntity, legs: Leg[], actions: Array<{ leg: number; action: LegAction }>, caller?: Principal): Promise<void> {
    await Promise.all(
      actions.map(async ({ leg: i, action }) => {
        const leg = legs[i]!;
        try {
          const snap = action === 'open' ? await this.open(row, leg, caller) : await this.act(row, leg, action, caller);
          const next = applySnapshot(leg, snap, this.clock.now());
          // a leg its target holds (a start awaiting an approval there) keeps the target's reason
          legs[i] = { ...next, reason: next.state === 'Held' ? next.reason : null, unreachable: null };
        } catch (error) {
          const why = describe(error);
          if (action === 'open' && !(error instanceof PeerCallError && error.factor !== 'http')) {
            // the target refused the leg (its policy, its group, its version): held with the reason, opened again on the next tick
            legs[i] = { ...leg, state: 'Held', reason: why };
          } else {
            legs[i] = { ...leg, unreachable: `${action}: ${why}` };
          }
          this.log.warn('Federated rollout {FederatedRolloutId}: {Action} on leg {Leg} failed: {Reason}', { FederatedRolloutId: row.id, Action: action, Leg: legName(leg), Reason: why });
        }
      }),
    );
  }

  private async refresh(row: FederatedRolloutEntity, leg: Leg): Promise<Leg> {
    if (!leg.rolloutId) return leg;
    try {
      const snap = leg.peer === null ? await this.local.view(row.tenantId, leg.rolloutId) : (await this.client.call<LegSnapshot>(await this.peers.activeByName(row.tenantId, leg.peer), `/federation/v1/rollouts/${leg.rolloutId}`)).body;
      return { ...applySnapshot(leg, snap, this.clock.now()), unreachable: null };
    } catch (error) {
      return { ...leg, unreachable: describe(error) };
    }
  }

  private specOf(row: FederatedRolloutEntity, leg: Leg, by: string): LegSpec {
    return { federatedRolloutId: row.id, name: row.name, configurationName: row.configurationName, contentHash: row.contentHash, groupName: leg.groupName, plan: row.plan, by };
  }

  private async open(row: FederatedRolloutEntity, leg: Leg, caller?: Principal): Promise<LegSnapshot> {
    const by = caller?.actor ?? row.createdBy;
    if (leg.peer === null) {
      const p = await this.legPrincipal(row, caller);
      return RequestContext.run({ principal: p, tenantId: p.tenantId }, () => this.local.open(p, this.specOf(row, leg, by)));
    }
    const peer = await this.peers.activeByName(row.tenantId, leg.peer);
    return (await this.client.call<LegSnapshot>(peer, '/federation/v1/rollouts', { method: 'POST', body: this.specOf(row, leg, by) })).body;
  }

  private async act(row: FederatedRolloutEntity, leg: Leg, action: Exclude<LegAction, 'open'>, caller?: Principal): Promise<LegSnapshot> {
    if (leg.peer === null) {
      const p = await this.legPrincipal(row, caller);
      return RequestContext.run({ principal: p, tenantId: p.tenantId }, () => this.local.act(p, leg.rolloutId!, action));
    }
    const peer = await this.peers.activeByName(row.tenantId, leg.peer);
    return (await this.client.call<LegSnapshot>(peer, `/federation/v1/rollouts/${leg.rolloutId}/${action}`, { method: 'POST', body: { by: caller?.actor ?? row.createdBy } })).body;
  }

  /** Who acts on this deployment's own leg: the operator of a control, else the coordinator on behalf of the creator. */
  private async legPrincipal(row: FederatedRolloutEntity, caller?: Principal): Promise<Principal> {
    if (caller) return caller;
    const tenant = await this.tenants.findById(row.tenantId);
    return { kind: 'system', tenantId: row.tenantId, tenantName: tenant?.name ?? '', role: 'Operator', actor: `federated-rollout:${row.id}` } as Principal;
  }

  private async remotePreflight(peer: PeerEntity, name: string, hash: string): Promise<PreflightAnswer> {
    try {
      const found = await this.client.call<{ status: string }>(peer, `/federation/v1/configurations/${encodeURIComponent(name)}/versions/${hash}`);
      return preflightOf(found.body, name);
    } catch (error) {
      if (error instanceof PeerCallError && error.status === 404 && error.code === 'FEDERATION_VERSION_NOT_FOUND') return preflightOf(null, name);
      return { ok: false, problem: `the peer could not be asked: ${describe(error)}` };
    }
  }

  private async saveLegs(id: string, legs: Leg[]): Promise<void> {
    await this.repo.update({ id }, { legs, updatedAt: this.clock.now() });
  }

  /** Moves the state if it is still what `row` says (a control and a tick may cross), audits and publishes it. */
  private async setState(row: FederatedRolloutEntity, to: FederatedRolloutState, reason: string | null, caller?: Principal): Promise<void> {
    const from = row.state;
    const changed = await this.tx.run(async (tx) => {
      const locked = await tx.manager.getRepository(FederatedRolloutEntity).findOne({ where: { id: row.id }, lock: { mode: 'pessimistic_write' } });
      if (!locked || locked.state !== from) return false;
      const now = this.clock.now();
      await tx.manager.getRepository(FederatedRolloutEntity).update({ id: row.id }, { state: to, reason, updatedAt: now, finishedAt: FINISHED.includes(to) ? now : null });
      await this.audit.record(tx.manager, { tenantId: row.tenantId, actor: caller?.actor ?? 'system', entityType: 'FederatedRollout', entityId: row.id, action: to, before: { state: from }, after: { state: to }, additional: reason ? { reason } : undefined });
      tx.afterCommit(() => this.bus.publish<FederationEvent>({ type: FederationEvents.RolloutChanged, tenantId: row.tenantId, entityId: row.id, payload: { federatedRolloutId: row.id, from, to, reason } }));
      return true;
    });
    if (changed) {
      row.state = to;
      row.reason = reason;
      this.log.info('Federated rollout {FederatedRolloutId}: {From} -> {To} ({Reason})', { FederatedRolloutId: row.id, From: from, To: to, Reason: reason ?? '' });
    }
  }

  private async unschedule(id: string): Promise<void> {
    await this.producer.queue(FEDERATION_QUEUE.name).removeJobScheduler(federatedTickSchedulerId(id));
  }
}

function applySnapshot(leg: Leg, s: LegSnapshot, now: Date): Leg {
  return { ...leg, rolloutId: s.rolloutId, state: s.state, currentStep: s.currentStep, stepCount: s.stepCount, waitingFor: s.waitingFor, counts: s.counts, gate: s.gate, rollbackState: s.rollbackState, seenAt: now.toISOString(), reason: s.state === 'Held' ? `held by ${s.waitingFor ?? 'the target'}` : s.gate && s.state === 'Paused' ? `gate ${s.gate.gate}` : leg.state === 'Held' ? null : leg.reason };
}

function describe(error: unknown): string {
  if (error instanceof PeerCallError) return error.factor === 'http' ? error.message.replace(/^the peer answered /, '') : `${error.factor}: ${error.message}`;
  if (error instanceof Error && 'code' in error) return `${String((error as { code: unknown }).code)}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
