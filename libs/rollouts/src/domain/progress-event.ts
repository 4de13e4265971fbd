/** Targets by state (as RolloutRepository counts them). */
export interface TargetCounts {
  pending: number;
  applying: number;
  applied: number;
  failed: number;
  skipped: number;
  disconnectedSincePush: number;
  /** Targets counted. */
  total: number;
}

/**
 * The payload of a `rollout.progress` live event (decision 0165). `counts` and `stepCounts` are kept
 * for the clients that read them; the explicit names say which level each number is:
 * - `rolloutCounts` (= `counts`): targets of every step started so far, by state;
 * - `rolloutTotal`: the agents the whole rollout covers (its cohort, or its group's members now), the
 *   rollout-level total — `counts.total` is only what the started steps took;
 * - `stepCounts` / `stepTotal`: the current step's targets by state, and how many it took.
 */
export interface ProgressPayload {
  rolloutId: string;
  /** The current step, counted from 0 as everywhere in the API. */
  step: number;
  counts: TargetCounts;
  rolloutCounts: TargetCounts;
  rolloutTotal: number;
  stepCounts: TargetCounts | null;
  stepTotal: number;
}

export function progressPayload(rolloutId: string, step: number, counts: { total: TargetCounts; steps: Map<number, TargetCounts> }, rolloutTotal: number): ProgressPayload {
  const stepCounts = counts.steps.get(step) ?? null;
  return {
    rolloutId,
    step,
    counts: counts.total,
    rolloutCounts: counts.total,
    // agents that joined the group after the start, or steps larger than today's group, never make
    // the total smaller than what the rollout already took
    rolloutTotal: Math.max(rolloutTotal, counts.total.total),
    stepCounts,
    stepTotal: stepCounts?.total ?? 0,
  };
}
