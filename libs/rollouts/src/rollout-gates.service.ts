import { Injectable } from '@nestjs/common';
import { Clock, createLogger, LiveBus, Metrics, TenantLabels } from '@ampora/platform';
import { FleetTransactions, OwnTelemetryService, RolloutSupportService } from '@ampora/fleet';
import { AnalysisResult, analysisPending, evaluateAnalysisGates } from './domain/analysis-gates';
import { evaluateStepGates } from './domain/gates';
import { RolloutState } from './domain/rollout-state';
import { GateRecord, RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { ENGINE_ACTOR, RolloutTransitions } from './rollout-transitions';
import { RolloutEvent, RolloutEvents } from './rollouts.events';

/** What the gates say of a step: a breach paused it, its analysis has no verdict yet, or go on. */
export type StepGateVerdict = 'paused' | 'holding' | 'clear';

/**
 * The health gates as production runs them: the step's pushed count and troubled targets are read,
 * `evaluateStepGates` (domain/gates) gives the verdict at the clock's time, and a breach pauses the
 * rollout (audited, counted, announced as `rollout.gate_fired`). With analysis gates (decision 0321),
 * the engine's check also reads the agents' own telemetry (fleet's rollups) and the same function
 * judges their verdicts (domain/analysis-gates) after the built-in ones.
 */
@Injectable()
export class RolloutGateCheck {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly transitions: RolloutTransitions,
    private readonly telemetry: OwnTelemetryService,
    private readonly fleet: RolloutSupportService,
    private readonly tx: FleetTransactions,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
  ) {}

  /** Evaluates the built-in gates of the step (live events); on a breach pauses the rollout. True when it is (now) paused. */
  async check(r: RolloutEntity, step: number): Promise<boolean> {
    return (await this.judge(r, step, false)) === 'paused';
  }

  /** The engine's check: the built-in gates and the analysis gates; `holding` while an analysis window is open. */
  checkStep(r: RolloutEntity, step: number): Promise<StepGateVerdict> {
    return this.judge(r, step, true);
  }

  private async judge(r: RolloutEntity, step: number, withAnalysis: boolean): Promise<StepGateVerdict> {
    if (r.gatesWaivedStep === step) return 'clear';
    const observed = await this.queries.gateObservations(r.id, step);
    const now = this.clock.now();
    const analysis = withAnalysis && r.gates.analysis?.length ? await this.analyse(r, step, now.getTime()) : [];
    const breach = evaluateStepGates(observed.pushed, observed.troubled, now.getTime(), r.gates, analysis);
    if (!breach) return analysisPending(analysis) ? 'holding' : 'clear';
    const gate: GateRecord = { ...breach, step, at: now.toISOString() };
    const paused = await this.tx.run(async (tx) => {
      const locked = await this.rollouts.lock(tx.manager, r.id);
      if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step || locked.gatesWaivedStep === step) return locked?.state === RolloutState.Paused;
      locked.gate = gate;
      const { agents, at: _at, ...rest } = gate;
      const details = { ...rest, agents: agents.slice(0, 20) };
      await this.transitions.apply(tx, locked, 'pause', { actor: ENGINE_ACTOR, details });
      tx.afterCommit(() => {
        Metrics.add('ampora_rollout_gate_fired_total', 1, { tenant: TenantLabels.of(r.tenantId), gate: gate.gate });
        this.log.warn('Rollout {RolloutId} paused by gate {Gate}: {Observed} > {Threshold} in step {Step}', {
          RolloutId: r.id,
          Gate: gate.verdict === 'inconclusive' ? `${gate.gate} (inconclusive: ${gate.sample} < ${gate.minSample} items)` : gate.gate,
          Observed: percent(gate.observed),
          Threshold: percent(gate.threshold),
          Step: step,
        });
        this.bus.publish<RolloutEvent>({ type: RolloutEvents.GateFired, tenantId: r.tenantId, entityId: r.id, payload: { rolloutId: r.id, ...gate } });
      });
      return true;
    });
    return paused ? 'paused' : 'clear';
  }

  /** The analysis gates' verdicts for the step, from the rollups of its pushed agents (and the control's). */
  private async analyse(r: RolloutEntity, step: number, now: number): Promise<AnalysisResult[]> {
    const specs = r.gates.analysis!;
    const pushed = await this.queries.pushedTargets(r.id, step);
    let control: string[] = [];
    if (specs.some((s) => s.gate === 'throughput-drop' && s.baseline === 'control')) {
      const covered = await this.queries.coveredAgents(r.id);
      const candidates = r.cohort ? await this.fleet.cohort(r.tenantId, r.cohort) : await this.fleet.members(r.tenantId, r.groupId);
      control = candidates.map((c) => c.id).filter((id) => !covered.has(id));
    }
    const { bucketMs, settleMs } = this.telemetry.timing;
    const longest = Math.max(...specs.map((s) => s.windowSeconds)) * 1000;
    const stepStart = new Date(r.steps[step]!.startedAt).getTime();
    const earliest = Math.min(stepStart, ...pushed.map((p) => p.pushedAt));
    const from = new Date(Math.floor((earliest - longest) / bucketMs) * bucketMs);
    const series = await this.telemetry.series(r.tenantId, [...pushed.map((p) => p.agentId), ...control], from, new Date(now + bucketMs));
    const results = evaluateAnalysisGates(specs, { pushed, control, controlFrom: stepStart, series, bucketMs, settleMs }, now);
    for (const result of results) Metrics.add('ampora_rollout_analysis_evaluations_total', 1, { tenant: TenantLabels.of(r.tenantId), gate: result.gate, verdict: result.verdict });
    return results;
  }
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}
