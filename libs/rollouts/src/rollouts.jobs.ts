import { defineQueue } from '@ampora/platform';

/** The rollout engine's work (the worker's RolloutsProcessor answers it). */
export const ROLLOUTS_QUEUE = defineQueue('rollouts', {
  tick: 'rollouts.tick',
});

/** One look at one rollout: plan and push the next step, check timers and gates. */
export interface RolloutTickJob {
  rolloutId: string;
  reason?: string;
}

/** The job scheduler that ticks an active rollout. */
export const tickSchedulerId = (rolloutId: string) => `rollout-tick:${rolloutId}`;
