import { Injectable } from '@nestjs/common';
import { Clock, createLogger, LiveBus, Metrics, TenantLabels } from '@ampora/platform';
import { FleetTransactions } from '@ampora/fleet';
import { evaluateStepGates } from './domain/gates';
import { RolloutState } from './domain/rollout-state';
import { GateRecord, RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { ENGINE_ACTOR, RolloutTransitions } from './rollout-transitions';
import { RolloutEvent, RolloutEvents } from './rollouts.events';

/**
 * The health gates as production runs them: the step's pushed count and troubled targets are read,
 * `evaluateStepGates` (domain/gates) gives the verdict at the clock's time, and a breach pauses the
 * rollout (audited, counted, announced as `rollout.gate_fired`).
 */
@Injectable()
export class RolloutGateCheck {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly transitions: RolloutTransitions,
    private readonly tx: FleetTransactions,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
  ) {}

  /** Evaluates the gates of the step; on a breach pauses the rollout. True when it is (now) paused. */
  async check(r: RolloutEntity, step: number): Promise<boolean> {
    if (r.gatesWaivedStep === step) return false;
    const observed = await this.queries.gateObservations(r.id, step);
    const now = this.clock.now();
    const breach = evaluateStepGates(observed.pushed, observed.troubled, now.getTime(), r.gates);
    if (!breach) return false;
    const gate: GateRecord = { ...breach, step, at: now.toISOString() };
    return this.tx.run(async (tx) => {
      const locked = await this.rollouts.lock(tx.manager, r.id);
      if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step || locked.gatesWaivedStep === step) return locked?.state === RolloutState.Paused;
      locked.gate = gate;
      const details = { gate: gate.gate, observed: gate.observed, threshold: gate.threshold, numerator: gate.numerator, denominator: gate.denominator, step, agents: gate.agents.slice(0, 20) };
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
        this.bus.publish<RolloutEvent>({ type: RolloutEvents.GateFired, tenantId: r.tenantId, entityId: r.id, payload: { rolloutId: r.id, ...gate } });
      });
      return true;
    });
  }
}

function percent(ratio: number): string {
  return `${Math.round(ratio * 1000) / 10} %`;
}
