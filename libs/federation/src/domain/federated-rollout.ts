/**
 * Federated rollouts (issue 19, decision 0370), the pure part: what a federated rollout's state is
 * from its legs', and what the coordinator does to each leg on a tick. A leg is one deployment's own
 * rollout (this one's, or a peer's), run there with that deployment's strategy engine and gates.
 */

export const FederatedRolloutState = {
  InProgress: 'InProgress',
  Paused: 'Paused',
  Completed: 'Completed',
  Failed: 'Failed',
  RolledBack: 'RolledBack',
} as const;
export type FederatedRolloutState = (typeof FederatedRolloutState)[keyof typeof FederatedRolloutState];

export const Coordination = { Independent: 'Independent', Synchronized: 'Synchronized' } as const;
export type Coordination = (typeof Coordination)[keyof typeof Coordination];

/** A leg's state: its rollout's, or `Held` while the target has not (yet) accepted it. */
export type LegState = 'Held' | 'Pending' | 'InProgress' | 'Paused' | 'Completed' | 'Failed' | 'RolledBack';

export interface LegCounts {
  pending: number;
  applying: number;
  applied: number;
  failed: number;
  skipped: number;
  total: number;
}

export const ZERO_LEG_COUNTS: LegCounts = { pending: 0, applying: 0, applied: 0, failed: 0, skipped: 0, total: 0 };

/** What the coordinator knows of a leg (kept on the federated rollout between ticks). */
export interface Leg {
  /** The peer's name, or null for this deployment's own leg. */
  peer: string | null;
  groupName: string;
  /** The target's rollout id once it accepted the leg. */
  rolloutId: string | null;
  state: LegState;
  /** Why the leg is held (the target's refusal), or why it paused (a gate). */
  reason: string | null;
  currentStep: number | null;
  stepCount: number;
  /** The target's rollout waits for: push, apply, dwell, advance (rollouts' `waitingFor`), or null. */
  waitingFor: string | null;
  counts: LegCounts;
  /** The gate that paused the leg's rollout, if any. */
  gate: { gate: string; observed: number; threshold: number; step: number } | null;
  /** The state of the leg's rollback rollout, once rolled back. */
  rollbackState: string | null;
  /** The last time the target answered; null until it did. */
  seenAt: string | null;
  /** Whether the last call to the target failed (the leg shows what was last seen). */
  unreachable: string | null;
}

export type LegAction = 'open' | 'pause' | 'resume' | 'advance' | 'abort' | 'rollback';

export interface TickDecision {
  state: FederatedRolloutState;
  /** Why the state changed on this tick (null when it did not). */
  reason: string | null;
  /** What to do to which leg (by index), in order. */
  actions: Array<{ leg: number; action: LegAction }>;
}

const ACTIVE: readonly LegState[] = ['Pending', 'InProgress', 'Paused'];

export function legName(leg: Pick<Leg, 'peer'>): string {
  return leg.peer ?? 'local';
}

/** Sum of every leg's counts: the federated progress. */
export function totalCounts(legs: readonly Leg[]): LegCounts {
  const sum = { ...ZERO_LEG_COUNTS };
  for (const l of legs) for (const k of Object.keys(sum) as Array<keyof LegCounts>) sum[k] += l.counts[k];
  return sum;
}

/** Why a leg stops the others (a gate or the target paused, aborted or rolled it back), or null. */
function stopper(leg: Leg): string | null {
  if (leg.state === 'Paused') return leg.gate ? `leg ${legName(leg)} paused by gate ${leg.gate.gate} (${leg.gate.observed} > ${leg.gate.threshold}) in step ${leg.gate.step}` : `leg ${legName(leg)} was paused on its deployment`;
  if (leg.state === 'Failed') return `leg ${legName(leg)} was aborted on its deployment`;
  if (leg.state === 'RolledBack') return `leg ${legName(leg)} was rolled back on its deployment`;
  return null;
}

/**
 * One tick: the federated state as the legs make it, and the actions that bring every leg to it.
 *
 * - InProgress: a leg without a rollout is opened (again: a held leg is retried). A leg that stopped
 *   (a gate paused it, or its deployment paused, aborted or rolled it back) pauses the federated
 *   rollout, and with it every other running leg. Every leg Completed completes it. Synchronized: the
 *   legs are advanced together once every unfinished leg waits for `advance` (none still pushing,
 *   applying or dwelling, none held).
 * - Paused: every running leg is paused. Failed: every active leg is aborted. RolledBack: every leg
 *   that can is rolled back (a Completed leg keeps its version, as a Completed rollout does).
 * - Completed: nothing.
 */
export function decideTick(state: FederatedRolloutState, coordination: Coordination, legs: readonly Leg[]): TickDecision {
  const actions: TickDecision['actions'] = [];
  const each = (pred: (l: Leg) => boolean, action: LegAction) => legs.forEach((l, i) => pred(l) && actions.push({ leg: i, action }));
  switch (state) {
    case FederatedRolloutState.InProgress: {
      const stopped = legs.map(stopper).find((r) => r !== null);
      if (stopped) {
        each((l) => l.state === 'InProgress' || l.state === 'Pending', 'pause');
        return { state: FederatedRolloutState.Paused, reason: stopped, actions };
      }
      if (legs.length > 0 && legs.every((l) => l.state === 'Completed')) return { state: FederatedRolloutState.Completed, reason: 'every leg completed', actions };
      each((l) => l.rolloutId === null, 'open');
      if (coordination === Coordination.Synchronized) {
        const open = legs.filter((l) => l.state !== 'Completed');
        if (open.length > 0 && open.every((l) => l.state === 'InProgress' && l.waitingFor === 'advance' && l.unreachable === null)) each((l) => l.state === 'InProgress', 'advance');
      }
      return { state, reason: null, actions };
    }
    case FederatedRolloutState.Paused:
      each((l) => l.state === 'InProgress' || l.state === 'Pending', 'pause');
      return { state, reason: null, actions };
    case FederatedRolloutState.Failed:
      each((l) => ACTIVE.includes(l.state), 'abort');
      return { state, reason: null, actions };
    case FederatedRolloutState.RolledBack:
      each((l) => ACTIVE.includes(l.state) || l.state === 'Failed', 'rollback');
      return { state, reason: null, actions };
    default:
      return { state, reason: null, actions };
  }
}

export type FederatedControl = 'pause' | 'resume' | 'abort' | 'rollback';

const CONTROLS: Record<FederatedControl, Partial<Record<FederatedRolloutState, FederatedRolloutState>>> = {
  pause: { InProgress: 'Paused' },
  resume: { Paused: 'InProgress' },
  abort: { InProgress: 'Failed', Paused: 'Failed' },
  rollback: { InProgress: 'RolledBack', Paused: 'RolledBack', Failed: 'RolledBack' },
};

/** The federated state an operator's control leads to, or null when it is not allowed from `from`. */
export function controlTarget(from: FederatedRolloutState, control: FederatedControl): FederatedRolloutState | null {
  return CONTROLS[control][from] ?? null;
}

/** The leg action a control performs right away on every leg it applies to (resume is the only one the tick does not repeat). */
export function controlActions(control: FederatedControl, legs: readonly Leg[]): Array<{ leg: number; action: LegAction }> {
  const out: Array<{ leg: number; action: LegAction }> = [];
  legs.forEach((l, i) => {
    if (control === 'resume' && l.state === 'Paused') out.push({ leg: i, action: 'resume' });
  });
  return out;
}

/** What a target said about the version in the pre-flight check: Published with the hash, or why not. */
export type PreflightAnswer = { ok: true } | { ok: false; problem: string };

/** The targets that fail the pre-flight check, each with why; empty when every target has the version Published. */
export function preflightProblems(answers: ReadonlyArray<{ target: string; answer: PreflightAnswer }>): Array<{ target: string; problem: string }> {
  return answers.flatMap((a) => (a.answer.ok ? [] : [{ target: a.target, problem: a.answer.problem }]));
}

/** Whether a status found at the target passes the pre-flight: the version with that content hash must be Published there. */
export function preflightOf(found: { status: string } | null, what: string): PreflightAnswer {
  if (!found) return { ok: false, problem: `no version of ${what} with this content hash` };
  if (found.status !== 'Published') return { ok: false, problem: `the version of ${what} with this content hash is ${found.status}, not Published` };
  return { ok: true };
}
