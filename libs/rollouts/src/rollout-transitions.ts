import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, injectTraceContext, JobProducer, LiveBus, Metrics, TenantLabels, Tx } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { nextState, RolloutAction, RolloutState, ACTIVE_STATES, IllegalTransitionError } from './domain/rollout-state';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutErrorCode, RolloutException } from './rollouts.errors';
import { RolloutEvent, RolloutEvents } from './rollouts.events';
import { BUSY_RETRY_MS, ROLLOUTS_QUEUE, RolloutTickJob, SCHEDULED_TICK, tickSchedulerId } from './rollouts.jobs';

/** The actor of what the engine does by itself (gates, completion, steps). */
export const ENGINE_ACTOR = 'system:rollout-engine';

export interface TransitionOptions {
  /** Overrides the request's actor (the engine). */
  actor?: string;
  /** Goes into the audit event and the live event (a gate's breach, a reason). */
  details?: Record<string, unknown>;
}

/**
 * Moves a rollout along its state machine inside the caller's transaction (the row must be locked):
 * checks the transition, audits it with its actor, and after the commit logs
 * `Rollout {RolloutId} entered state {State}`, counts it, announces it on the live-update bus and
 * starts or stops the rollout's tick schedule.
 */
@Injectable()
export class RolloutTransitions {
  // the category is part of the published log contract
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutService');

  constructor(
    private readonly repository: RolloutRepository,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    private readonly producer: JobProducer,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async apply(tx: Tx, rollout: RolloutEntity, action: RolloutAction, options: TransitionOptions = {}): Promise<RolloutEntity> {
    const from = rollout.state;
    let to: RolloutState;
    try {
      to = nextState(from, action);
    } catch (error) {
      if (error instanceof IllegalTransitionError) throw illegal(rollout, action);
      throw error;
    }
    const now = this.clock.now();
    rollout.state = to;
    if (to === RolloutState.InProgress && !rollout.startedAt) rollout.startedAt = now;
    if (!ACTIVE_STATES.includes(to) && to !== RolloutState.Pending) {
      rollout.finishedAt = now;
      rollout.engineOwner = null;
      rollout.engineLeaseUntil = null;
    }
    await this.repository.save(tx.manager, rollout, now);
    await this.audit.record(tx.manager, {
      tenantId: rollout.tenantId,
      entityType: 'Rollout',
      entityId: rollout.id,
      action: to,
      before: { state: from },
      after: { state: to, currentStep: rollout.currentStep },
      additional: options.details,
      actor: options.actor,
      actorRole: options.actor ? null : undefined,
    });
    const { tenantId, id } = rollout;
    tx.afterCommit(async () => {
      this.log.info('Rollout {RolloutId} entered state {State}', { RolloutId: id, State: to, From: from, Actor: options.actor ?? 'operator' });
      Metrics.add('ampora_rollout_state_transitions_total', 1, { tenant: TenantLabels.of(tenantId), from, to });
      this.bus.publish<RolloutEvent>({ type: RolloutEvents.StateChanged, tenantId, entityId: id, payload: { rolloutId: id, from, to, ...(options.details ?? {}) } });
      if (to === RolloutState.InProgress) await this.schedule(tenantId, id, `entered ${to}`);
      else if (!ACTIVE_STATES.includes(to)) await this.unschedule(id);
    });
    return rollout;
  }

  /** Ticks the rollout every AMPORA_ROLLOUT_TICK_MS from now on, and once at once. */
  async schedule(tenantId: string, rolloutId: string, reason: string): Promise<void> {
    const payload: RolloutTickJob = { rolloutId, reason: SCHEDULED_TICK };
    await this.producer
      .queue(ROLLOUTS_QUEUE.name)
      .upsertJobScheduler(
        tickSchedulerId(rolloutId),
        { every: this.config.rollouts.tickMs },
        { name: ROLLOUTS_QUEUE.jobs.tick, data: { tenantId, trace: injectTraceContext(), payload }, opts: { removeOnComplete: true, removeOnFail: { age: 24 * 3600 } } },
      );
    await this.kick(tenantId, rolloutId, reason);
  }

  /** One tick now (a change the engine should act on without waiting for the schedule). */
  async kick(tenantId: string, rolloutId: string, reason: string): Promise<void> {
    await this.enqueueTick(tenantId, rolloutId, reason);
  }

  /**
   * One tick BUSY_RETRY_MS from now, for a tick that was asked for while another held the rollout's
   * lease (decision 0437). One job per rollout and interval however many ask (its id), so a retry
   * that finds the lease busy again asks for the next interval's.
   */
  async kickSoon(tenantId: string, rolloutId: string, reason: string): Promise<void> {
    const slot = Math.floor(this.clock.nowMs() / BUSY_RETRY_MS) + 1;
    await this.enqueueTick(tenantId, rolloutId, reason, { delay: BUSY_RETRY_MS, jobId: retickJobId(rolloutId, slot) });
  }

  /** One tick job, tried once; kept a day when it fails. */
  private async enqueueTick(tenantId: string, rolloutId: string, reason: string, options: { delay?: number; jobId?: string } = {}): Promise<void> {
    await this.producer.enqueue<RolloutTickJob>(ROLLOUTS_QUEUE.name, ROLLOUTS_QUEUE.jobs.tick, { rolloutId, reason }, { tenantId, attempts: 1, removeOnComplete: true, removeOnFail: { age: 24 * 3600 }, ...options });
  }

  async unschedule(rolloutId: string): Promise<void> {
    await this.producer.queue(ROLLOUTS_QUEUE.name).removeJobScheduler(tickSchedulerId(rolloutId));
  }
}

export function illegal(rollout: RolloutEntity, action: string): RolloutException {
  return new RolloutException(RolloutErrorCode.ROLLOUT_ILLEGAL_TRANSITION, `Rollout ${rollout.id} is ${rollout.state}; it cannot ${action}`, { state: rollout.state, action });
}

/** The job of a tick asked for again in interval `slot` (BullMQ ids may not contain ':'). */
export const retickJobId = (rolloutId: string, slot: number) => `rollout-retick-${rolloutId}-${slot}`;
