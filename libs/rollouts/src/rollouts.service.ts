import { Injectable, OnModuleInit } from '@nestjs/common';
import { z } from 'zod';
import { Clock, createLogger, NO_WORKER_WARNING, Page, PageQuery, Principal, Tx, WorkerPresence } from '@ampora/platform';
import { ApprovalOperation, ApprovalRequestRow, ApprovalRuleService, AuditService } from '@ampora/governance';
import { AgentCap, hasCapability } from '@ampora/opamp';
import { FleetErrorCode, FleetException, FleetTransactions, RolloutSupportService } from '@ampora/fleet';
import { CreateRolloutSchema, GateRecordSchema, RolloutSchema, RolloutSummarySchema, StepSchema } from './dto/rollout.dto';
import { GateSettings } from './domain/gates';
import { canDo, rollbackPath, RolloutAction, RolloutState } from './domain/rollout-state';
import { orderAgents, planStep } from './domain/step-planner';
import { stepCount, StrategyInput } from './domain/strategy';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetRepository } from './persistence/rollout-target.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { RolloutCounts, TargetRow, ZERO_COUNTS } from './persistence/target-rows';
import { RolloutDefaultsService, validStrategy } from './rollout-defaults.service';
import { PackageRolloutDelivery } from './package-rollout-delivery.service';
import { illegal, RolloutTransitions } from './rollout-transitions';
import { RolloutErrorCode, RolloutException } from './rollouts.errors';

type CreateInput = z.infer<typeof CreateRolloutSchema>;
type Summary = z.infer<typeof RolloutSummarySchema>;
type Detail = z.infer<typeof RolloutSchema>;

/** Targets listed in a rollout's detail, at most. */
const DETAIL_TARGETS = 1000;

/**
 * Rollouts as operators see them: create, inspect, preview and control. The controls move the state
 * machine in a transaction holding the rollout row; the worker's engine (RolloutEngine) does the
 * stepping and pushing.
 */
/** What asking to start a rollout did: started it, or (a tenant approval rule applies) opened an approval request. */
export interface StartOutcome {
  rollout: RolloutEntity;
  approvalId?: string;
}

@Injectable()
export class RolloutsService implements OnModuleInit {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutsService');

  constructor(
    private readonly repository: RolloutRepository,
    private readonly targetRows: RolloutTargetRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly transitions: RolloutTransitions,
    private readonly fleet: RolloutSupportService,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly defaults: RolloutDefaultsService,
    private readonly workers: WorkerPresence,
    private readonly clock: Clock,
    private readonly approvalRules: ApprovalRuleService,
    private readonly packages: PackageRolloutDelivery,
  ) {}

  onModuleInit(): void {
    // a start that waited for a second person happens when it is approved, inside the decision's transaction
    // and a rejected one will not happen: the rollout ends Failed and frees its group (decision 0411)
    this.approvalRules.registerOperation(ApprovalOperation.RolloutStart, {
      onApproved: (tx, request, rolloutId) => this.startApproved(tx, request, rolloutId),
      onRejected: (tx, request, rolloutId, reason) => this.startRejected(tx, request, rolloutId, reason),
    });
  }

  async create(caller: Principal, input: CreateInput): Promise<RolloutEntity> {
    const requested = input.strategy ? validStrategy(input.strategy as StrategyInput) : undefined;
    const rollout = await this.tx.run(async ({ manager }) => {
      // what the request leaves out comes from the tenant's defaults (copied: later changes do not apply)
      const defaults = await this.defaults.effective(caller.tenantId, manager);
      const strategy = requested ?? defaults.strategy;
      const gates: GateSettings = { ...defaults.gates, ...(input.gates ?? {}) };
      const group = await this.fleet.liveGroup(manager, caller.tenantId, input.groupId);
      if (!group) throw new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${input.groupId} was not found`);
      // the subject (decision 0375): a Published configuration version, or a package version (an agent upgrade)
      const subject = input.package
        ? await this.packages.packageVersion(caller.tenantId, input.package.name, input.package.version, manager).then((p) => ({ subject: 'package' as const, packageVersionId: p.id, packageName: p.name, packageVersion: p.version, configurationId: null, versionId: null, versionNumber: null }))
        : await this.fleet.publishedVersion(manager, caller.tenantId, input.configurationId!, input.version!).then((v) => ({ subject: 'configuration' as const, configurationId: input.configurationId!, versionId: v.id, versionNumber: v.number }));
      await this.fleet.lockGroup(manager, group.id);
      const busy = await this.repository.activeOnGroup(manager, group.id);
      if (busy) throw new RolloutException(RolloutErrorCode.ROLLOUT_GROUP_BUSY, `Group ${group.name} already has an active rollout (${busy}); finish, abort or roll it back first`, { rolloutId: busy });
      const r = await this.repository.insert(manager, {
        tenantId: caller.tenantId,
        name: input.name,
        kind: 'Rollout',
        ...subject,
        groupId: group.id,
        strategy,
        gates,
        ordering: input.ordering ?? defaults.ordering,
        autoAdvance: input.autoAdvance ?? strategy.type === 'Canary',
        dwellSeconds: input.dwellSeconds,
        state: RolloutState.Pending,
        createdBy: caller.actor,
      });
      await this.audit.record(manager, { entityType: 'Rollout', entityId: r.id, action: 'Created', after: { name: r.name, ...(r.subject === 'package' ? { package: { name: r.packageName, version: r.packageVersion } } : { version: r.versionNumber }), groupId: r.groupId, strategy: r.strategy, gates, ordering: r.ordering, autoAdvance: r.autoAdvance } });
      return r;
    });
    this.log.info('Rollout {RolloutId} ({Name}) created: version {Version} to group {GroupId}, {Strategy}', { RolloutId: rollout.id, Name: rollout.name, Version: rollout.subject === 'package' ? `${rollout.packageName} ${rollout.packageVersion}` : rollout.versionNumber, GroupId: rollout.groupId, Strategy: rollout.strategy.type });
    return rollout;
  }

  list(tenantId: string, filter: { state?: string }, page: PageQuery): Promise<Page<RolloutEntity>> {
    return this.repository.list(tenantId, filter, page);
  }

  async get(tenantId: string, id: string): Promise<RolloutEntity> {
    const r = await this.repository.findInTenant(tenantId, id);
    if (!r) throw notFound(id);
    return r;
  }

  // ----- controls -----

  /**
   * Pending → InProgress, unless a tenant approval rule applies to this start (decision 0365): then
   * the rollout stays Pending and an approval request opens (asked again while pending: reset); the
   * start happens when another person approves it.
   */
  async start(caller: Principal, id: string): Promise<StartOutcome> {
    let approvalId: string | undefined;
    const rollout = await this.control(caller, id, 'start', async (tx, r) => {
      if (!canDo(r.state, 'start')) throw illegal(r, 'start');
      const context = await this.startContext(tx, r, caller);
      const required = await this.approvalRules.required(r.tenantId, ApprovalOperation.RolloutStart, context, tx.manager);
      if (!required) return this.transitions.apply(tx, r, 'start');
      const request = await this.approvalRules.requestFor(tx, caller, {
        operation: ApprovalOperation.RolloutStart,
        entityId: r.id,
        title: `Start rollout ${r.name}`,
        before: { state: r.state },
        after: { state: RolloutState.InProgress, rollout: context.rollout, group: context.group },
        required,
      });
      approvalId = request.id;
      return r;
    });
    return approvalId ? { rollout, approvalId } : { rollout };
  }

  private async startApproved(tx: Tx, request: ApprovalRequestRow, rolloutId: string): Promise<void> {
    const r = await this.repository.lock(tx.manager, rolloutId);
    if (!r || r.tenantId !== request.tenantId) throw notFound(rolloutId);
    // still Pending or the approval fails (409) and stays pending
    await this.transitions.apply(tx, r, 'start', { details: { approvalId: request.id } });
  }

  /**
   * A rejected start: the rollout, still Pending, is Failed (it never started, nothing was pushed) so
   * its group is free; the decider is the actor, the audit row names the request and the reason. A
   * rollout that is gone or no longer Pending is left as it is: the rejection stands.
   */
  private async startRejected(tx: Tx, request: ApprovalRequestRow, rolloutId: string, reason: string): Promise<void> {
    const r = await this.repository.lock(tx.manager, rolloutId);
    if (!r || r.tenantId !== request.tenantId || r.state !== RolloutState.Pending) return;
    await this.transitions.apply(tx, r, 'abort', { details: { by: 'approval', approvalId: request.id, reason } });
  }

  /** What an approval rule's condition reads about a start. */
  private async startContext(tx: Tx, r: RolloutEntity, caller: Principal) {
    const group = await this.fleet.liveGroup(tx.manager, r.tenantId, r.groupId);
    return {
      tenant: caller.tenantName,
      actor: caller.actor,
      rollout: { id: r.id, name: r.name, kind: r.kind, strategy: r.strategy.type, version: r.versionNumber },
      group: { id: r.groupId, name: group?.name ?? null },
    };
  }

  pause(caller: Principal, id: string): Promise<RolloutEntity> {
    return this.control(caller, id, 'pause', async (tx, r) => this.transitions.apply(tx, r, 'pause', { details: { by: 'operator' } }));
  }

  /** Resume; after a gate paused the current step, its gates are waived for the rest of the step. */
  resume(caller: Principal, id: string): Promise<RolloutEntity> {
    return this.control(caller, id, 'resume', async (tx, r) => {
      const afterGate = r.gate !== null && r.gate.step === r.currentStep;
      if (afterGate && r.currentStep !== null) r.gatesWaivedStep = r.currentStep;
      return this.transitions.apply(tx, r, 'resume', { details: afterGate ? { waivedGate: r.gate!.gate, step: r.currentStep } : undefined });
    });
  }

  /** Skips the rest of the current step's dwell (or its wait for an operator). */
  advance(caller: Principal, id: string): Promise<RolloutEntity> {
    return this.control(caller, id, 'advance', async (tx, r) => {
      if (r.state !== RolloutState.InProgress) throw illegal(r, 'advance');
      const step = r.currentStep;
      const record = step === null ? undefined : r.steps[step];
      if (step === null || !record?.settledAt) {
        throw new RolloutException(RolloutErrorCode.ROLLOUT_STEP_NOT_SETTLED, `Step ${step ?? 0} of rollout ${r.id} has agents still Pending or Applying; it can advance once every agent Applied, Failed or was Skipped`, { step });
      }
      r.advanceStep = step;
      await this.repository.save(tx.manager, r, this.clock.now());
      await this.audit.record(tx.manager, { entityType: 'Rollout', entityId: r.id, action: 'Advanced', additional: { step, dwellUntil: record.dwellUntil } });
      tx.afterCommit(() => this.transitions.kick(r.tenantId, r.id, 'advance'));
      return r;
    });
  }

  /** Adds to the current step's dwell. */
  extend(caller: Principal, id: string, seconds: number): Promise<RolloutEntity> {
    return this.control(caller, id, 'extend', async (tx, r) => {
      if ((r.state !== RolloutState.InProgress && r.state !== RolloutState.Paused) || r.currentStep === null) throw illegal(r, 'extend');
      const step = r.currentStep;
      r.steps = r.steps.map((s, i) => (i === step ? { ...s, extendedSeconds: s.extendedSeconds + seconds, dwellUntil: s.dwellUntil ? new Date(new Date(s.dwellUntil).getTime() + seconds * 1000).toISOString() : null } : s));
      if (r.advanceStep === step) r.advanceStep = null;
      await this.repository.save(tx.manager, r, this.clock.now());
      await this.audit.record(tx.manager, { entityType: 'Rollout', entityId: r.id, action: 'DwellExtended', additional: { step, seconds, dwellUntil: r.steps[step]!.dwellUntil } });
      return r;
    });
  }

  /**
   * Stops the rollout, and every agent it touched that still runs its assignment goes back to its
   * group's version (what it had before), pushed whatever it reports now (decision 0110). A Pending
   * rollout (never started: nothing to revert or push) is Failed at once and frees its group; a start
   * of it waiting for an approval is withdrawn (decision 0411). `reason`, when given, goes into the audit row.
   */
  abort(caller: Principal, id: string, reason?: string): Promise<RolloutEntity> {
    const why = reason ? { reason } : {};
    let withdrawn: ApprovalRequestRow | undefined;
    // the start's approval request is locked before the rollout, the order a decision on it takes
    // (request, then rollout): an abort and a decision of the same start never deadlock
    const first = async (tx: Tx) => {
      withdrawn = await this.withdrawStart(tx, caller, id, reason);
    };
    return this.control(
      caller,
      id,
      'abort',
      async (tx, r) => {
        if (!canDo(r.state, 'abort')) throw illegal(r, 'abort');
        // a start asked for between the withdrawal above and the rollout's lock
        withdrawn ??= await this.withdrawStart(tx, caller, id, reason);
        const approval = withdrawn ? { withdrawnApprovalId: withdrawn.id } : {};
        if (r.state === RolloutState.Pending) return this.transitions.apply(tx, r, 'abort', { details: { by: 'operator', reverted: 0, ...why, ...approval } });
        if (r.subject === 'package') {
          // an agent upgrade: each agent it reached gets back the version it had (decision 0375)
          const restored = await this.packages.restore(tx.manager, r);
          tx.afterCommit(() => this.packages.offer(r.tenantId, restored));
          return this.transitions.apply(tx, r, 'abort', { details: { by: 'operator', reverted: restored.length, ...why, ...approval } });
        }
        const reverted = r.kind === 'Rollout' ? await this.fleet.revertRolloutAssignment(tx.manager, r.tenantId, await this.targetRows.touched(tx.manager, r.id), r.versionId!) : [];
        tx.afterCommit(() => this.fleet.pushAssigned(r.tenantId, reverted, `rollout ${r.id} aborted`, { force: true }).then(() => undefined));
        return this.transitions.apply(tx, r, 'abort', { details: { by: 'operator', reverted: reverted.length, ...why, ...approval } });
      },
      first,
    );
  }

  /** Withdraws a pending approval request of the rollout's start (the start will not happen now). */
  private withdrawStart(tx: Tx, caller: Principal, rolloutId: string, reason: string | undefined): Promise<ApprovalRequestRow | undefined> {
    return this.approvalRules.withdrawFor(tx, caller, ApprovalOperation.RolloutStart, rolloutId, reason ? `the rollout was aborted: ${reason}` : 'the rollout was aborted');
  }

  /**
   * The previous Published version to every agent the rollout assigned its version to, as a child
   * rollout (same strategy and gates) over that cohort; this rollout ends RolledBack.
   */
  rollback(caller: Principal, id: string): Promise<RolloutEntity> {
    return this.control(caller, id, 'rollback', async (tx, r) => {
      if (![RolloutState.InProgress, RolloutState.Paused, RolloutState.Failed].includes(r.state) || r.kind === 'Rollback') throw illegal(r, 'rollback');
      // Failed before it ever started (aborted, or its start rejected, while Pending): nothing was assigned or pushed (decision 0412)
      if (r.startedAt === null) throw new RolloutException(RolloutErrorCode.ROLLOUT_NEVER_STARTED, `Rollout ${r.id} never started: it assigned and pushed nothing, so there is nothing to roll back`, { state: r.state });
      if (r.subject === 'package') return this.rollbackPackage(tx, r);
      const previous = await this.fleet.previousPublishedNumber(tx.manager, r.configurationId!, r.versionNumber!);
      if (previous === null) {
        throw new RolloutException(RolloutErrorCode.ROLLOUT_NO_PREVIOUS_VERSION, `Configuration ${r.configurationId} has no Published version before ${r.versionNumber} to roll back to`, { version: r.versionNumber });
      }
      const version = await this.fleet.publishedVersion(tx.manager, r.tenantId, r.configurationId!, previous);
      const cohort = await this.targetRows.touched(tx.manager, r.id);
      const child = await this.repository.insert(tx.manager, {
        tenantId: r.tenantId,
        name: `${r.name} (rollback)`.slice(0, 200),
        kind: 'Rollback',
        rollbackOf: r.id,
        configurationId: r.configurationId,
        versionId: version.id,
        versionNumber: version.number,
        groupId: r.groupId,
        cohort,
        strategy: r.strategy,
        // a rollback restores what ran: analysis gates (decision 0321) do not hold or pause it
        gates: { ...r.gates, analysis: undefined },
        ordering: r.ordering,
        autoAdvance: true,
        dwellSeconds: r.dwellSeconds,
        state: RolloutState.Pending,
        createdBy: caller.actor,
      });
      await this.audit.record(tx.manager, { entityType: 'Rollout', entityId: child.id, action: 'Created', after: { name: child.name, rollbackOf: r.id, version: version.number, agents: cohort.length } });
      for (const [, to] of rollbackPath(r.state)) {
        if (to === RolloutState.RolledBack) r.rollbackId = child.id;
        await this.transitions.apply(tx, r, to === RolloutState.Failed ? 'abort' : 'rollback', { details: to === RolloutState.RolledBack ? { rollbackId: child.id, version: version.number, agents: cohort.length } : { by: 'rollback' } });
      }
      await this.transitions.apply(tx, child, 'start', { details: { rollbackOf: r.id } });
      return r;
    });
  }

  /**
   * Rolling back an agent upgrade (decision 0375): every agent the rollout assigned the version to, and
   * that still has it, is assigned the version it had before (or none) and offered it at once; the
   * rollout ends RolledBack without a child rollout (each agent goes back to its own previous version).
   */
  private async rollbackPackage(tx: Tx, r: RolloutEntity): Promise<RolloutEntity> {
    const restored = await this.packages.restore(tx.manager, r);
    tx.afterCommit(() => this.packages.offer(r.tenantId, restored));
    for (const [, to] of rollbackPath(r.state)) {
      await this.transitions.apply(tx, r, to === RolloutState.Failed ? 'abort' : 'rollback', { details: to === RolloutState.RolledBack ? { package: r.packageName, restored: restored.length } : { by: 'rollback' } });
    }
    return r;
  }

  private async control(caller: Principal, id: string, action: RolloutAction | 'advance' | 'extend', fn: (tx: Tx, r: RolloutEntity) => Promise<RolloutEntity>, first?: (tx: Tx) => Promise<void>): Promise<RolloutEntity> {
    const result = await this.tx.run(async (tx) => {
      await first?.(tx);
      const r = await this.repository.lock(tx.manager, id);
      if (!r || r.tenantId !== caller.tenantId) throw notFound(id);
      return fn(tx, r);
    });
    this.log.debug('Rollout {RolloutId}: {Action} by {Actor}', { RolloutId: id, Action: action, Actor: caller.actor });
    return result;
  }

  // ----- reading -----

  /** Summaries of a page of rollouts: two statements however many there are. */
  async summaries(rollouts: RolloutEntity[]): Promise<Summary[]> {
    if (rollouts.length === 0) return [];
    const tenantId = rollouts[0]!.tenantId;
    const [counts, sizes] = await Promise.all([
      this.queries.countsOf(rollouts.map((r) => r.id)),
      this.fleet.memberCounts(tenantId, rollouts.filter((r) => !r.cohort).map((r) => r.groupId)),
    ]);
    const now = this.clock.nowMs();
    return rollouts.map((r) => summarize(r, counts.get(r.id) ?? { total: ZERO_COUNTS(), steps: new Map() }, r.cohort ? r.cohort.length : (sizes.get(r.groupId) ?? 0), now));
  }

  /** The detail of a rollout that was just set going: warns when no worker is alive to drive it. */
  async detailAfterGo(r: RolloutEntity): Promise<Detail> {
    const detail = await this.detail(r);
    if (r.state !== 'InProgress' || (await this.workers.alive())) return { ...detail, warnings: [] };
    this.log.warn('No worker is alive: rollout {RolloutId} waits until one runs', { RolloutId: r.id });
    return { ...detail, warnings: [NO_WORKER_WARNING] };
  }

  async detail(r: RolloutEntity): Promise<Detail> {
    const [counts, size] = await Promise.all([this.queries.counts(r.id), r.cohort ? r.cohort.length : this.memberCount(r.tenantId, r.groupId)]);
    const summary = summarize(r, counts, size, this.clock.nowMs());
    const steps = counts.steps;
    const targets = await this.listTargets(r.id, {}, { limit: DETAIL_TARGETS + 1 });
    return {
      ...summary,
      steps: r.steps.map((s): z.infer<typeof StepSchema> => ({ ...s, counts: steps.get(s.index) ?? ZERO_COUNTS() })),
      targets: targets.slice(0, DETAIL_TARGETS).map(toTarget),
      targetsTruncated: targets.length > DETAIL_TARGETS,
    };
  }

  async targets(r: RolloutEntity, filter: { step?: number; state?: string }, page: { after?: number; limit: number }) {
    const rows = await this.listTargets(r.id, filter, { after: page.after, limit: page.limit + 1 });
    const items = rows.slice(0, page.limit);
    return { items: items.map(toTarget), nextAfter: rows.length > page.limit ? items[items.length - 1]!.position : null };
  }

  private async memberCount(tenantId: string, groupId: string): Promise<number> {
    return (await this.fleet.memberCounts(tenantId, [groupId])).get(groupId) ?? 0;
  }

  /** A page of targets with their agents' display names ('' for an agent without one). */
  private async listTargets(rolloutId: string, filter: { step?: number; state?: string }, page: { after?: number; limit: number }): Promise<Array<TargetRow & { displayName: string }>> {
    const rows = await this.queries.targets(rolloutId, filter, page);
    const names = await this.fleet.displayNames(rows.map((t) => t.agentId));
    return rows.map((t) => ({ ...t, displayName: names.get(t.agentId) ?? '' }));
  }

  /** Who each step takes: started steps as they ran, later ones planned from the group as it is now. */
  async preview(r: RolloutEntity, onlyStep: number | undefined, limit: number) {
    const candidates = r.cohort ? await this.fleet.cohort(r.tenantId, r.cohort) : await this.fleet.members(r.tenantId, r.groupId);
    const info = new Map(candidates.map((c) => [c.id, c]));
    const ordered = r.cohort ? candidates.map((c) => c.id) : orderAgents(candidates, r.ordering, r.groupId);
    const started = await this.queries.targets(r.id, {}, { limit: 1_000_000 });
    const needed = r.subject === 'package' ? AgentCap.AcceptsPackages : AgentCap.AcceptsRemoteConfig;
    const covered = new Set(started.map((t) => t.agentId));
    const steps: Array<{ index: number; planned: boolean; cumulative: number; count: number; agents: Array<{ id: string; displayName: string; willSkip: boolean }>; last: boolean }> = [];
    const total = Math.max(stepCount(r.strategy, ordered.length), r.steps.length);
    let cumulative = 0;
    for (let index = 0; index < total + 1; index++) {
      let ids: string[];
      let last: boolean;
      let planned = false;
      if (index < r.steps.length) {
        ids = started.filter((t) => t.step === index).map((t) => t.agentId);
        last = r.steps[index]!.last;
      } else {
        const plan = planStep(r.strategy, index, ordered, covered);
        ids = plan.agents;
        last = plan.last;
        planned = true;
        ids.forEach((id) => covered.add(id));
      }
      cumulative += ids.length;
      if (onlyStep === undefined || onlyStep === index) {
        steps.push({
          index,
          planned,
          cumulative,
          count: ids.length,
          last,
          agents: ids.slice(0, limit).map((id) => ({ id, displayName: info.get(id)?.hostname ?? '', willSkip: !hasCapability(BigInt(info.get(id)?.capabilities ?? '0'), needed) })),
        });
      }
      if (last) break;
    }
    return { rolloutId: r.id, groupSize: ordered.length, steps };
  }
}

/** What the API says of a rollout, from its row, its target counts and the size of what it covers. */
function summarize(r: RolloutEntity, counts: RolloutCounts, size: number, now: number): Summary {
  const current = r.currentStep !== null ? r.steps[r.currentStep] : undefined;
  const stepCounts = r.currentStep !== null ? counts.steps.get(r.currentStep) : undefined;
  let waitingFor: Summary['waitingFor'] = null;
  if (r.state === RolloutState.InProgress) {
    if (!current) waitingFor = 'push';
    else if (!current.settledAt) waitingFor = (stepCounts?.pending ?? 0) + (stepCounts?.applying ?? 0) > 0 ? 'apply' : 'push';
    else if (r.advanceStep !== r.currentStep && current.dwellUntil && new Date(current.dwellUntil).getTime() > now) waitingFor = 'dwell';
    else if (r.advanceStep !== r.currentStep && !current.last && !r.autoAdvance) waitingFor = 'advance';
  }
  const summary: Summary = {
    id: r.id,
    name: r.name,
    kind: r.kind,
    rollbackOf: r.rollbackOf,
    rollbackId: r.rollbackId,
    subject: r.subject,
    configurationId: r.configurationId,
    versionId: r.versionId,
    version: r.versionNumber,
    package: r.subject === 'package' ? { name: r.packageName!, version: r.packageVersion!, versionId: r.packageVersionId! } : null,
    groupId: r.groupId,
    strategy: r.strategy,
    gates: r.gates,
    ordering: r.ordering,
    autoAdvance: r.autoAdvance,
    dwellSeconds: r.dwellSeconds,
    state: r.state,
    currentStep: r.currentStep,
    stepCount: totalSteps(r, size, counts.total.total),
    waitingFor,
    dwellUntil: current?.dwellUntil ?? null,
    gate: r.gate as z.infer<typeof GateRecordSchema> | null,
    counts: counts.total,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
  return summary;
}

/** Steps the rollout has or will have: Batch depends on how many agents are still uncovered. */
function totalSteps(r: RolloutEntity, groupSize: number, covered: number): number {
  if (r.strategy.type !== 'Batch') return r.strategy.steps.length;
  if (r.steps.length === 0) return stepCount(r.strategy, groupSize);
  const current = r.steps[r.steps.length - 1]!;
  return r.steps.length + (current.last ? 0 : Math.ceil(Math.max(0, groupSize - covered) / r.strategy.batchSize));
}

function toTarget(t: TargetRow & { displayName: string }) {
  return {
    agentId: t.agentId,
    displayName: t.displayName,
    step: t.step,
    position: t.position,
    state: t.state,
    reason: t.reason,
    deniedByPolicy: t.deniedByPolicy,
    pushedAt: t.pushedAt?.toISOString() ?? null,
    appliedAt: t.appliedAt?.toISOString() ?? null,
    disconnectedSincePush: t.disconnectedAt !== null && !t.recovered,
    healthy: t.healthy,
    effectiveMatches: t.effectiveMatches,
  };
}

function notFound(id: string): RolloutException {
  return new RolloutException(RolloutErrorCode.ROLLOUT_NOT_FOUND, `Rollout ${id} was not found`);
}
