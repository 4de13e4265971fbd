import { defineQueue } from '@ampora/platform';

/** The rollout engine's work (the worker's RolloutsProcessor answers it). */
export const ROLLOUTS_QUEUE = defineQueue('rollouts', {
  tick: 'rollouts.tick',
});

/** One look at one rollout: plan and push the next step, check timers and gates. */
export interface RolloutTickJob {
  rolloutId: string;
  /** Why: SCHEDULED_TICK for the schedule's ticks, else what asked for it (an event, an operator). */
  reason?: string;
}

/** The reason of the ticks the rollout's schedule makes (every AMPORA_ROLLOUT_TICK_MS). */
export const SCHEDULED_TICK = 'schedule';

/** How soon a tick asked for while another held the rollout's lease comes back (decision 0437). */
export const BUSY_RETRY_MS = 250;

/** The job scheduler that ticks an active rollout. */
export const tickSchedulerId = (rolloutId: string) => `rollout-tick:${rolloutId}`;
