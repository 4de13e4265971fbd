import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, createLogger, LiveBus, Metrics, RequestContext, TenantLabels, withSpan } from '@ampora/platform';
import { AGENT_DISPATCHER, AgentCap, AgentDispatcher, DesiredConfig, hasCapability } from '@ampora/opamp';
import { AgentDriftService, AssignmentService, ConfigurationVersionEntity, FleetDispatchService, FleetTransactions, fromStoredFiles } from '@ampora/fleet';
import { evaluateGateCounts } from './domain/gates';
import { progressPayload } from './domain/progress-event';
import { RolloutState } from './domain/rollout-state';
import { orderAgents, planStep } from './domain/step-planner';
import { dwellAfter } from './domain/strategy';
import { AgentObservation, observeTarget } from './domain/target-observation';
import { GateRecord, RolloutEntity, StepRecord } from './entities/rollout.entity';
import { NOT_CONNECTED_REASON, ObsoleteReasons, RolloutRepository, TargetChange } from './rollout.repository';
import { ENGINE_ACTOR, RolloutTransitions } from './rollout-transitions';

/** Agents' answers announce a rollout's progress at most this often (steps and settlement always do). */
const PROGRESS_EVERY_MS = 1000;

const NOT_ACCEPTING = 'the agent does not accept remote configuration (no AcceptsRemoteConfig capability)';
/** Why a target stopped being the rollout's: it left the group, or it runs another assignment now. */
export const OBSOLETE: ObsoleteReasons = {
  leftGroup: "the agent left the rollout's group",
  reassigned: "the agent's assignment changed during the rollout (assigned directly, cleared, or moved out and back)",
};

export type TickOutcome = 'inactive' | 'busy' | 'waiting' | 'paused' | 'completed' | 'stopped';

/**
 * The rollout engine (worker). `drive` is one tick: with the rollout's lease it starts steps, pushes
 * them, expires slow targets, checks gates, waits out dwells and completes. `observe` applies agents'
 * live events to the targets of running steps and fires gates at once. Every decision is made from,
 * and written to, the database, so any worker can pick up where another stopped.
 */
@Injectable()
export class RolloutEngine {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');
  /** When agents' answers last announced each rollout's progress. */
  private readonly progressAt = new Map<string, number>();

  constructor(
    private readonly repository: RolloutRepository,
    private readonly transitions: RolloutTransitions,
    private readonly assignment: AssignmentService,
    private readonly fleetDispatch: FleetDispatchService,
    private readonly drift: AgentDriftService,
    private readonly tx: FleetTransactions,
    private readonly bus: LiveBus,
    private readonly dataSource: DataSource,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** One tick of one rollout. */
  async drive(rolloutId: string): Promise<TickOutcome> {
    const found = await this.repository.findById(rolloutId);
    if (!found || found.state !== RolloutState.InProgress) {
      if (found && found.state !== RolloutState.Paused && found.state !== RolloutState.Pending) await this.transitions.unschedule(rolloutId);
      return found?.state === RolloutState.Paused ? 'paused' : 'inactive';
    }
    return RequestContext.run({ tenantId: found.tenantId }, () =>
      withSpan('rollout.tick', { attributes: { 'rollout.id': rolloutId, state: found.state } }, async (span) => {
        const owner = `${this.config.app.instanceId}/${randomUUID().slice(0, 8)}`;
        if (!(await this.repository.acquireLease(rolloutId, owner, this.config.rollouts.leaseSeconds))) return 'busy';
        try {
          const outcome = await this.run(rolloutId, owner);
          span.setAttribute('rollout.outcome', outcome);
          return outcome;
        } finally {
          await this.repository.releaseLease(rolloutId, owner).catch(() => undefined);
        }
      }),
    );
  }

  private async run(rolloutId: string, owner: string): Promise<TickOutcome> {
    for (let guard = 0; guard < 10_000; guard++) {
      const r = await this.repository.findById(rolloutId);
      if (!r || r.state !== RolloutState.InProgress) return r?.state === RolloutState.Paused ? 'paused' : 'stopped';
      if (r.currentStep === null) {
        await this.startStep(rolloutId, null);
        continue;
      }
      const step = r.currentStep;
      const record = r.steps[step]!;
      await this.reconcile(r, step, new Date(record.startedAt));
      if (await this.checkGates(r, step)) return 'paused';
      const unpushed = await this.repository.unpushed(rolloutId, step);
      if (unpushed.length > 0) {
        const completed = await this.push(r, step, unpushed, owner);
        if (!completed) continue; // stopped by a pause: the loop's state check returns
        await this.publishProgress(r, step);
        continue;
      }
      if ((await this.repository.openCount(rolloutId, step)) > 0) return 'waiting';
      const settled = record.settledAt ? record : await this.settle(rolloutId, step);
      if (!settled) continue;
      const now = Date.now();
      const advanced = r.advanceStep === step;
      if (!advanced && settled.dwellUntil && new Date(settled.dwellUntil).getTime() > now) return 'waiting';
      if (!settled.last && !advanced && !r.autoAdvance) return 'waiting';
      if (settled.last) return (await this.complete(rolloutId, step)) ? 'completed' : 'stopped';
      await this.startStep(rolloutId, step);
    }
    return 'waiting';
  }

  /** Plans and records step `after + 1` (0 when `after` is null), once: the row lock decides who does. */
  private async startStep(rolloutId: string, after: number | null): Promise<void> {
    const index = after === null ? 0 : after + 1;
    const started = await this.tx.run(async ({ manager, afterCommit }) => {
      const r = await this.repository.lock(manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== after) return undefined;
      const candidates = r.cohort ? await this.repository.cohort(r.tenantId, r.cohort, manager) : await this.repository.members(r.tenantId, r.groupId, manager);
      const ordered = r.cohort ? candidates.map((c) => c.id) : orderAgents(candidates, r.ordering, r.groupId);
      const covered = await this.repository.coveredAgents(manager, rolloutId);
      const plan = planStep(r.strategy, index, ordered, covered);
      const caps = new Map(candidates.map((c) => [c.id, c.capabilities]));
      let position = await this.repository.nextPosition(manager, rolloutId);
      await this.repository.insertTargets(
        manager,
        plan.agents.map((agentId) => {
          const accepts = hasCapability(BigInt(caps.get(agentId) ?? '0'), AgentCap.AcceptsRemoteConfig);
          return { rolloutId, agentId, tenantId: r.tenantId, step: index, position: position++, state: accepts ? 'Pending' : 'Skipped', reason: accepts ? null : NOT_ACCEPTING };
        }),
      );
      const record: StepRecord = { index, agents: plan.agents.length, startedAt: new Date().toISOString(), settledAt: null, dwellUntil: null, extendedSeconds: 0, last: plan.last };
      r.steps = [...r.steps.slice(0, index), record];
      r.currentStep = index;
      await this.repository.save(manager, r);
      afterCommit(() => {
        this.log.info('Rollout {RolloutId} started step {Step} with {Agents} agents', { RolloutId: rolloutId, Step: index, Agents: plan.agents.length, Last: plan.last });
        this.bus.publish({ type: 'rollout.step_started', tenantId: r.tenantId, entityId: rolloutId, payload: { rolloutId, step: index, agents: plan.agents.length, last: plan.last } });
      });
      return r;
    });
    if (!started) this.log.debug('Rollout {RolloutId}: step {Step} was already started elsewhere', { RolloutId: rolloutId, Step: index });
  }

  /**
   * Assigns and pushes a step's agents, `pushConcurrency` at a time. Each chunk is assigned in a
   * transaction that first checks the rollout still runs this step, so a pause stops the rest (the
   * next chunk's assignment overlaps the current chunk's pushes: at most that one chunk still goes
   * out after a pause, like a push in flight). Returns false when it stopped early.
   */
  private async push(r: RolloutEntity, step: number, agentIds: string[], owner: string): Promise<boolean> {
    const version = await this.version(r);
    const desired: DesiredConfig = { files: fromStoredFiles(version.files), hash: version.configHash.trim() };
    const size = this.config.rollouts.pushConcurrency;
    const chunks: string[][] = [];
    for (let i = 0; i < agentIds.length; i += size) chunks.push(agentIds.slice(i, i + size));
    const assign = (chunk: string[]) =>
      this.tx.run(async ({ manager }): Promise<string[] | false> => {
        const locked = await this.repository.lock(manager, r.id, 'share');
        if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step) return false;
        // an agent that moved to another group since the step was planned is not the rollout's any more
        const staying = await this.repository.lockStaying(manager, r.tenantId, r.id, r.groupId, chunk, OBSOLETE.leftGroup);
        await this.assignment.assignVersion(manager, r.tenantId, staying, version, 'rollout');
        await this.repository.markAssigned(manager, r.id, staying, new Date());
        return staying;
      });
    const renewEveryMs = (this.config.rollouts.leaseSeconds * 1000) / 3;
    let renewedAt = Date.now();
    let next: Promise<string[] | false> | undefined = chunks.length ? assign(chunks[0]!) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = await next;
      if (!chunk) return false;
      next = c + 1 < chunks.length ? assign(chunks[c + 1]!) : undefined;
      // a failed assignment of the next chunk surfaces when it is awaited
      next?.catch(() => undefined);
      await this.deliver(r, desired, chunk);
      if (next && Date.now() - renewedAt > renewEveryMs) {
        if (!(await this.repository.acquireLease(r.id, owner, this.config.rollouts.leaseSeconds))) {
          await next.catch(() => undefined);
          return false;
        }
        renewedAt = Date.now();
      }
    }
    return true;
  }

  /**
   * Pushes the version to agents it is assigned to and records each outcome on their targets. Agents
   * moved or reassigned since their assignment are not pushed (their targets are Skipped): a stale
   * push would override what they run now.
   */
  private async deliver(r: RolloutEntity, desired: DesiredConfig, assigned: string[]): Promise<void> {
    const agentIds = await this.repository.stillAssigned(r.id, r.tenantId, r.groupId, desired.hash, assigned, OBSOLETE);
    const outcomes = await Promise.all(
      agentIds.map((agentId) =>
        // a rollback is sent whatever the agent reports now (it may report the version's hash already,
        // restored by itself): the rollback waits for a status given after this push
        this.dispatcher.pushRemoteConfig({ agentId, tenantId: r.tenantId }, desired, { force: r.kind === 'Rollback' }).catch((error: unknown) => {
          this.log.warn('Pushing rollout {RolloutId} to agent {AgentId} failed; it gets the version when it reconnects', { RolloutId: r.id, AgentId: agentId }, error);
          return 'no_session' as const;
        }),
      ),
    );
    const pushed: string[] = [];
    const waiting: string[] = [];
    const skipped: Array<{ agentId: string; reason: string }> = [];
    outcomes.forEach((o, k) => {
      const agentId = agentIds[k]!;
      if (o === 'no_session') waiting.push(agentId);
      else if (o === 'cap_mismatch') skipped.push({ agentId, reason: NOT_ACCEPTING });
      else pushed.push(agentId);
    });
    await this.repository.recordPushes(r.id, pushed, waiting, skipped);
  }

  /** Catches up with agents' recorded state (events missed while no worker ran) and expires slow targets. */
  private async reconcile(r: RolloutEntity, step: number, startedAt: Date): Promise<void> {
    const version = await this.version(r);
    const expected = { configHash: version.configHash.trim(), contentHash: version.contentHash.trim(), freshOnly: r.kind === 'Rollback' };
    await this.repository.skipObsolete(r.id, step, r.groupId, expected.configHash, OBSOLETE);
    const rows = await this.repository.stepWithAgents(r.id, step);
    const drift = await this.drift.verdictsOf(
      rows.filter((t) => t.assigned).map((t) => ({ id: t.agentId, assignedConfigHash: t.agent.assignedHash, assignedContentHash: t.agent.assignedContentHash, effectiveConfigHash: t.agent.effectiveHash, remoteConfigHash: null })),
    );
    const now = new Date();
    const changes: TargetChange[] = [];
    for (const t of rows) {
      const a = t.agent;
      const o: AgentObservation = {
        remoteConfig: a.status && a.hash ? { status: a.status, hash: a.hash, errorMessage: a.error ?? undefined, at: a.statusAt ?? undefined } : undefined,
        inDrift: drift.get(t.agentId),
        healthy: a.healthy,
        effectiveHash: a.effectiveHash,
        disconnectedAt: !a.connected && a.disconnectedAt ? a.disconnectedAt : undefined,
      };
      const after = observeTarget(t, o, expected, now);
      if (after) changes.push({ rolloutId: t.rolloutId, agentId: t.agentId, tenantId: t.tenantId, before: t.state, after });
    }
    if (changes.length) this.count(await this.repository.writeChanges(changes));
    // An agent that had no session when pushed but is connected now, without having answered: it may
    // have attached just before its assignment (and read the old one), while its lease was not yet
    // taken, so the push found nobody. Push again, once per tick, until it answers or times out.
    const answered = new Set(changes.map((c) => c.agentId));
    const again = rows.filter((t) => t.state === 'Pending' && !t.pushedAt && t.reason === NOT_CONNECTED_REASON && t.agent.connected && !answered.has(t.agentId)).map((t) => t.agentId);
    for (let i = 0; i < again.length; i += this.config.rollouts.pushConcurrency) {
      await this.deliver(r, { files: fromStoredFiles(version.files), hash: expected.configHash }, again.slice(i, i + this.config.rollouts.pushConcurrency));
    }
    const expired = await this.repository.expire(r.id, step, startedAt, r.gates.applyTimeoutSeconds);
    if (expired.failed) Metrics.add('ampora_rollout_targets_failed_total', expired.failed, { tenant: TenantLabels.of(r.tenantId), rollout_id: r.id });
  }

  /** Evaluates the gates of the step; on a breach pauses the rollout. True when it is (now) paused. */
  async checkGates(r: RolloutEntity, step: number): Promise<boolean> {
    if (r.gatesWaivedStep === step) return false;
    const counts = await this.repository.gateCounts(r.id, step, r.gates);
    const breach = evaluateGateCounts(counts, r.gates);
    if (!breach) return false;
    const agents = await this.repository.gateAgents(r.id, step, breach.gate, r.gates);
    const gate: GateRecord = { ...breach, agents, step, at: new Date().toISOString() };
    return this.tx.run(async (tx) => {
      const locked = await this.repository.lock(tx.manager, r.id);
      if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step || locked.gatesWaivedStep === step) return locked?.state === RolloutState.Paused;
      locked.gate = gate;
      const details = { gate: gate.gate, observed: gate.observed, threshold: gate.threshold, numerator: gate.numerator, denominator: gate.denominator, step, agents: agents.slice(0, 20) };
      await this.transitions.apply(tx, locked, 'pause', { actor: ENGINE_ACTOR, details });
      tx.afterCommit(() => {
        Metrics.add('ampora_rollout_gate_fired_total', 1, { tenant: TenantLabels.of(r.tenantId), gate: gate.gate });
        this.log.warn('Rollout {RolloutId} paused by gate {Gate}: {Observed} > {Threshold} in step {Step}', {
          RolloutId: r.id,
          Gate: gate.gate,
          Observed: percent(gate.observed),
          Threshold: percent(gate.threshold),
          Step: step,
        });
        this.bus.publish({ type: 'rollout.gate_fired', tenantId: r.tenantId, entityId: r.id, payload: { rolloutId: r.id, ...gate } });
      });
      return true;
    });
  }

  /** Marks the step settled and starts its dwell. */
  private async settle(rolloutId: string, step: number): Promise<StepRecord | undefined> {
    return this.tx.run(async ({ manager, afterCommit }) => {
      const r = await this.repository.lock(manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== step) return undefined;
      const record = r.steps[step]!;
      if (record.settledAt) return record;
      const now = Date.now();
      const dwell = r.strategy.type === 'Canary' || r.autoAdvance ? dwellAfter(r.strategy, step, r.dwellSeconds) : 0;
      const updated: StepRecord = { ...record, settledAt: new Date(now).toISOString(), dwellUntil: new Date(now + (dwell + record.extendedSeconds) * 1000).toISOString() };
      r.steps = r.steps.map((s, i) => (i === step ? updated : s));
      await this.repository.save(manager, r);
      afterCommit(async () => {
        this.log.info('Rollout {RolloutId} step {Step} settled; dwell until {DwellUntil}', { RolloutId: rolloutId, Step: step, DwellUntil: updated.dwellUntil });
        await this.publishProgress(r, step);
      });
      return updated;
    });
  }

  private async complete(rolloutId: string, step: number): Promise<boolean> {
    return this.tx.run(async (tx) => {
      const r = await this.repository.lock(tx.manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== step) return false;
      if (r.kind === 'Rollout') {
        const version = await this.version(r, tx.manager);
        const changed = await this.assignment.adoptGroupVersion(tx.manager, r.tenantId, r.groupId, version);
        tx.afterCommit(() => this.fleetDispatch.pushAssigned(r.tenantId, changed, `rollout ${r.id} completed`));
      }
      const counts = await this.repository.counts(rolloutId, tx.manager);
      await this.transitions.apply(tx, r, 'complete', { actor: ENGINE_ACTOR, details: { counts: counts.total } });
      return true;
    });
  }

  /**
   * Applies agents' observations to the running steps that hold them, counts targets that reached
   * Applied or Failed, re-evaluates the gates of the rollouts concerned, and kicks a tick when a
   * step has nothing open any more.
   */
  async observe(observations: Map<string, AgentObservation>): Promise<number> {
    if (observations.size === 0) return 0;
    const targets = await this.repository.openTargetsOf([...observations.keys()]);
    const judged = targets.filter((t) => t.assigned && (observations.get(t.agentId)!.effectiveHash || observations.get(t.agentId)!.remoteConfig));
    const drift = await this.drift.verdicts(judged.map((t) => t.agentId), { semanticOnly: true });
    const now = new Date();
    const changes: TargetChange[] = [];
    for (const t of targets) {
      const o = observations.get(t.agentId)!;
      const after = observeTarget(t, drift.has(t.agentId) ? { ...o, inDrift: drift.get(t.agentId) } : o, t, now);
      if (after) changes.push({ rolloutId: t.rolloutId, agentId: t.agentId, tenantId: t.tenantId, before: t.state, after });
    }
    if (changes.length === 0) return 0;
    const written = await this.repository.writeChanges(changes);
    this.count(written);
    const rollouts = new Map<string, string>();
    for (const c of written) rollouts.set(c.rolloutId, c.tenantId);
    for (const [rolloutId, tenantId] of rollouts) {
      await RequestContext.run({ tenantId }, async () => {
        const r = await this.repository.findById(rolloutId);
        if (!r || r.currentStep === null) return;
        if (this.progressDue(rolloutId)) await this.publishProgress(r, r.currentStep);
        if (r.state !== RolloutState.InProgress) return;
        if (await this.checkGates(r, r.currentStep)) return;
        if ((await this.repository.openCount(rolloutId, r.currentStep)) === 0) await this.transitions.kick(tenantId, rolloutId, 'step settled');
      }).catch((error: unknown) => this.log.warn('Evaluating rollout {RolloutId} after agent events failed; the next tick retries', { RolloutId: rolloutId }, error));
    }
    return written.length;
  }

  /** Whether agents' answers may announce this rollout's progress now (and notes that they do). */
  private progressDue(rolloutId: string): boolean {
    const now = Date.now();
    if (now - (this.progressAt.get(rolloutId) ?? 0) < PROGRESS_EVERY_MS) return false;
    // rollouts that stopped answering are forgotten
    if (this.progressAt.size >= 1000) for (const [id, at] of this.progressAt) if (now - at >= PROGRESS_EVERY_MS) this.progressAt.delete(id);
    this.progressAt.set(rolloutId, now);
    return true;
  }

  private count(written: TargetChange[]): void {
    for (const c of written) {
      if (c.after.state === c.before) continue;
      const labels = { tenant: TenantLabels.of(c.tenantId), rollout_id: c.rolloutId };
      if (c.after.state === 'Applied') Metrics.add('ampora_rollout_targets_succeeded_total', 1, labels);
      else if (c.after.state === 'Failed') Metrics.add('ampora_rollout_targets_failed_total', 1, labels);
    }
  }

  private async publishProgress(r: RolloutEntity, step: number): Promise<void> {
    const [counts, size] = await Promise.all([this.repository.counts(r.id), r.cohort ? r.cohort.length : this.repository.memberCount(r.tenantId, r.groupId)]);
    this.bus.publish({ type: 'rollout.progress', tenantId: r.tenantId, entityId: r.id, payload: progressPayload(r.id, step, counts, size) });
  }

  private async version(r: RolloutEntity, manager: EntityManager = this.dataSource.manager): Promise<ConfigurationVersionEntity> {
    const v = await manager.getRepository(ConfigurationVersionEntity).findOne({ where: { id: r.versionId } });
    if (!v) throw new Error(`rollout ${r.id}: version ${r.versionId} is gone`);
    return v;
  }
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}
