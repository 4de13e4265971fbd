import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, LiveBus, RequestContext, withSpan } from '@ampora/platform';
import { AgentCap, hasCapability } from '@ampora/opamp';
import { FleetTransactions, RolloutSupportService, RolloutVersion } from '@ampora/fleet';
import { RolloutState } from './domain/rollout-state';
import { orderAgents, planStep } from './domain/step-planner';
import { dwellAfter } from './domain/strategy';
import { AgentObservation, NEW_TARGET, startingTarget } from './domain/target-observation';
import { RolloutEntity, StepRecord } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetRepository } from './persistence/rollout-target.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { NOT_ACCEPTING, RolloutDelivery } from './rollout-delivery.service';
import { NOT_ACCEPTING_PACKAGES, PackageRolloutDelivery } from './package-rollout-delivery.service';
import { RolloutGateCheck } from './rollout-gates.service';
import { RolloutObserver } from './rollout-observer.service';
import { RolloutProgressPublisher } from './rollout-progress.publisher';
import { ENGINE_ACTOR, RolloutTransitions } from './rollout-transitions';
import { SCHEDULED_TICK } from './rollouts.jobs';
import { RolloutEvent, RolloutEvents } from './rollouts.events';

export type TickOutcome = 'inactive' | 'busy' | 'waiting' | 'paused' | 'completed' | 'stopped';

/**
 * The rollout engine (worker). `drive` is one tick: with the rollout's lease it starts steps (the
 * domain's step planner picks the agents), pushes them (RolloutDelivery), catches up with and expires
 * targets (RolloutObserver), checks gates (RolloutGateCheck, the domain's gates), waits out dwells and
 * completes. `observe` applies agents' live events. Every decision is made from, and written to, the
 * database, so any worker can pick up where another stopped; every time it reads is the Clock's.
 */
@Injectable()
export class RolloutEngine {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly targets: RolloutTargetRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly transitions: RolloutTransitions,
    private readonly delivery: RolloutDelivery,
    private readonly packages: PackageRolloutDelivery,
    private readonly observer: RolloutObserver,
    private readonly gates: RolloutGateCheck,
    private readonly progress: RolloutProgressPublisher,
    private readonly fleet: RolloutSupportService,
    private readonly tx: FleetTransactions,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /**
   * One tick of one rollout. `reason`: why it was asked for (SCHEDULED_TICK for the schedule's). A
   * tick asked for by anything but the schedule that finds another holding the lease comes back
   * shortly (decision 0437): the one running may have looked before what asked for this tick.
   */
  async drive(rolloutId: string, reason?: string): Promise<TickOutcome> {
    const found = await this.rollouts.findById(rolloutId);
    if (!found || found.state !== RolloutState.InProgress) {
      if (found && found.state !== RolloutState.Paused && found.state !== RolloutState.Pending) await this.transitions.unschedule(rolloutId);
      return found?.state === RolloutState.Paused ? 'paused' : 'inactive';
    }
    return RequestContext.run({ tenantId: found.tenantId }, () =>
      withSpan('rollout.tick', { attributes: { 'rollout.id': rolloutId, state: found.state } }, async (span) => {
        const owner = `${this.config.app.instanceId}/${randomUUID().slice(0, 8)}`;
        if (!(await this.rollouts.acquireLease(rolloutId, owner, this.config.rollouts.leaseSeconds))) {
          if (reason !== SCHEDULED_TICK) await this.transitions.kickSoon(found.tenantId, rolloutId, reason ?? 'asked for while busy');
          return 'busy';
        }
        try {
          const outcome = await this.run(rolloutId, owner);
          span.setAttribute('rollout.outcome', outcome);
          return outcome;
        } finally {
          await this.rollouts.releaseLease(rolloutId, owner).catch(() => undefined);
        }
      }),
    );
  }

  /** Applies agents' live observations to running steps (see RolloutObserver.observe). */
  observe(observations: Map<string, AgentObservation>): Promise<number> {
    return this.observer.observe(observations);
  }

  private async run(rolloutId: string, owner: string): Promise<TickOutcome> {
    // the step this pass planned: its targets start from the inventory, so there is nothing to catch up on yet
    let planned: number | undefined;
    // the step this pass pushed: while its answers come in, the tick that settles it catches up (decision 0438)
    let pushed: number | undefined;
    for (let guard = 0; guard < 10_000; guard++) {
      const r = await this.rollouts.findById(rolloutId);
      if (!r || r.state !== RolloutState.InProgress) return r?.state === RolloutState.Paused ? 'paused' : 'stopped';
      if (r.currentStep === null) {
        planned = await this.startStep(rolloutId, null);
        continue;
      }
      const step = r.currentStep;
      const record = r.steps[step]!;
      if (pushed === step && (await this.targets.openCount(rolloutId, step)) > 0) return 'waiting';
      pushed = undefined;
      // the subject (decision 0375): a configuration version, or a package version (an agent upgrade)
      const subject = r.subject === 'package' ? { pkg: await this.packages.packageOf(r) } : { version: await this.version(r) };
      if (subject.pkg) await this.packages.reconcile(r, subject.pkg, step, new Date(record.startedAt));
      else if (planned !== step) await this.observer.reconcile(r, subject.version!, step, new Date(record.startedAt));
      planned = undefined;
      const gates = await this.gates.checkStep(r, step);
      if (gates === 'paused') return 'paused';
      const unpushed = await this.targets.unpushed(rolloutId, step);
      if (unpushed.length > 0) {
        if (subject.pkg) {
          if (!(await this.packages.push(r, subject.pkg, step, unpushed, owner))) continue; // stopped by a pause or a lost lease: the loop's state check decides
        } else {
          const done = await this.delivery.push(r, subject.version!, step, unpushed, owner);
          if (!done) continue;
          // answers are due from every agent sent the version; those that already ran it send none, and the catch-up judges them now
          if (done.alreadyThere === 0) pushed = step;
        }
        await this.progress.publish(r, step);
        continue;
      }
      if ((await this.targets.openCount(rolloutId, step)) > 0) return 'waiting';
      // analysis gates (decision 0321): the step settles only once their windows gave a verdict
      if (gates === 'holding' && !record.settledAt) return 'waiting';
      const settled = record.settledAt ? record : await this.settle(rolloutId, step);
      if (!settled) continue;
      const now = this.clock.nowMs();
      const advanced = r.advanceStep === step;
      if (!advanced && settled.dwellUntil && new Date(settled.dwellUntil).getTime() > now) return 'waiting';
      if (!settled.last && !advanced && !r.autoAdvance) return 'waiting';
      if (settled.last) return (await this.complete(rolloutId, step)) ? 'completed' : 'stopped';
      planned = await this.startStep(rolloutId, step);
    }
    return 'waiting';
  }

  /**
   * Plans and records step `after + 1` (0 when `after` is null), once: the row lock decides who does.
   * Returns the step when this call planned it.
   */
  private async startStep(rolloutId: string, after: number | null): Promise<number | undefined> {
    const index = after === null ? 0 : after + 1;
    const started = await this.tx.run(async ({ manager, afterCommit }) => {
      const r = await this.rollouts.lock(manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== after) return undefined;
      const candidates = r.cohort ? await this.fleet.cohort(r.tenantId, r.cohort, manager) : await this.fleet.members(r.tenantId, r.groupId, manager);
      const ordered = r.cohort ? candidates.map((c) => c.id) : orderAgents(candidates, r.ordering, r.groupId);
      const covered = await this.targets.coveredAgents(manager, rolloutId);
      const plan = planStep(r.strategy, index, ordered, covered);
      // a configuration needs AcceptsRemoteConfig, a package AcceptsPackages: the others are Skipped with why
      const [needed, notAccepting] = r.subject === 'package' ? [AgentCap.AcceptsPackages, NOT_ACCEPTING_PACKAGES] : [AgentCap.AcceptsRemoteConfig, NOT_ACCEPTING];
      let position = await this.targets.nextPosition(manager, rolloutId);
      const now = this.clock.now();
      // a configuration's targets start from what the inventory says of their agents (decision 0434)
      const version = r.subject === 'package' ? undefined : await this.version(r, manager);
      const byId = new Map(candidates.map((c) => [c.id, c]));
      await this.targets.insertTargets(
        manager,
        plan.agents.map((agentId) => {
          const c = byId.get(agentId);
          const accepts = hasCapability(BigInt(c?.capabilities ?? '0'), needed);
          const seen = accepts && version && c ? startingTarget({ healthy: c.healthy, effectiveHash: c.effectiveConfigHash }, version, now) : NEW_TARGET;
          return { rolloutId, agentId, tenantId: r.tenantId, step: index, position: position++, state: accepts ? 'Pending' : 'Skipped', reason: accepts ? null : notAccepting, healthy: seen.healthy, effectiveMatches: seen.effectiveMatches };
        }),
      );
      const record: StepRecord = { index, agents: plan.agents.length, startedAt: now.toISOString(), settledAt: null, dwellUntil: null, extendedSeconds: 0, last: plan.last };
      r.steps = [...r.steps.slice(0, index), record];
      r.currentStep = index;
      await this.rollouts.save(manager, r, now);
      afterCommit(() => {
        this.log.info('Rollout {RolloutId} started step {Step} with {Agents} agents', { RolloutId: rolloutId, Step: index, Agents: plan.agents.length, Last: plan.last });
        this.bus.publish<RolloutEvent>({ type: RolloutEvents.StepStarted, tenantId: r.tenantId, entityId: rolloutId, payload: { rolloutId, step: index, agents: plan.agents.length, last: plan.last } });
      });
      return r;
    });
    if (!started) this.log.debug('Rollout {RolloutId}: step {Step} was already started elsewhere', { RolloutId: rolloutId, Step: index });
    return started ? index : undefined;
  }

  /** Marks the step settled and starts its dwell. */
  private async settle(rolloutId: string, step: number): Promise<StepRecord | undefined> {
    return this.tx.run(async ({ manager, afterCommit }) => {
      const r = await this.rollouts.lock(manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== step) return undefined;
      const record = r.steps[step]!;
      if (record.settledAt) return record;
      const now = this.clock.nowMs();
      const dwell = r.strategy.type === 'Canary' || r.autoAdvance ? dwellAfter(r.strategy, step, r.dwellSeconds) : 0;
      const updated: StepRecord = { ...record, settledAt: new Date(now).toISOString(), dwellUntil: new Date(now + (dwell + record.extendedSeconds) * 1000).toISOString() };
      r.steps = r.steps.map((s, i) => (i === step ? updated : s));
      await this.rollouts.save(manager, r, new Date(now));
      afterCommit(async () => {
        this.log.info('Rollout {RolloutId} step {Step} settled; dwell until {DwellUntil}', { RolloutId: rolloutId, Step: step, DwellUntil: updated.dwellUntil });
        await this.progress.publish(r, step);
      });
      return updated;
    });
  }

  private async complete(rolloutId: string, step: number): Promise<boolean> {
    return this.tx.run(async (tx) => {
      const r = await this.rollouts.lock(tx.manager, rolloutId);
      if (!r || r.state !== RolloutState.InProgress || r.currentStep !== step) return false;
      // a package rollout leaves each agent its assignment; a configuration's becomes the group's
      if (r.kind === 'Rollout' && r.subject === 'configuration') {
        const changed = await this.fleet.adoptGroupVersion(tx.manager, r.tenantId, r.groupId, r.versionId!);
        tx.afterCommit(() => this.fleet.pushAssigned(r.tenantId, changed, `rollout ${r.id} completed`));
      }
      const counts = await this.queries.counts(rolloutId, tx.manager);
      await this.transitions.apply(tx, r, 'complete', { actor: ENGINE_ACTOR, details: { counts: counts.total } });
      return true;
    });
  }

  private async version(r: RolloutEntity, manager?: EntityManager): Promise<RolloutVersion> {
    const v = await this.fleet.version(r.versionId!, manager);
    if (!v) throw new Error(`rollout ${r.id}: version ${r.versionId} is gone`);
    return v;
  }
}
