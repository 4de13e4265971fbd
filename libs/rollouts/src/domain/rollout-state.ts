/**
 * The rollout state machine (pure). Pending → InProgress ⇄ Paused → Completed | Failed → RolledBack,
 * and Pending → Failed (a rollout aborted, or whose start approval was rejected, before it started;
 * decision 0410), and nothing else. Rolling back a running rollout passes through Failed (abort, then
 * roll back), so every transition stays on the machine.
 */
export enum RolloutState {
  Pending = 'Pending',
  InProgress = 'InProgress',
  Paused = 'Paused',
  Completed = 'Completed',
  Failed = 'Failed',
  RolledBack = 'RolledBack',
}

export type RolloutAction = 'start' | 'pause' | 'resume' | 'complete' | 'abort' | 'rollback';

const TABLE: Record<RolloutState, Partial<Record<RolloutAction, RolloutState>>> = {
  [RolloutState.Pending]: { start: RolloutState.InProgress, abort: RolloutState.Failed },
  [RolloutState.InProgress]: { pause: RolloutState.Paused, complete: RolloutState.Completed, abort: RolloutState.Failed },
  [RolloutState.Paused]: { resume: RolloutState.InProgress, abort: RolloutState.Failed },
  [RolloutState.Completed]: {},
  [RolloutState.Failed]: { rollback: RolloutState.RolledBack },
  [RolloutState.RolledBack]: {},
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: RolloutState,
    readonly action: RolloutAction,
  ) {
    super(`a rollout in state ${from} cannot ${action}`);
  }
}

/** The state an action leads to, or an IllegalTransitionError. */
export function nextState(from: RolloutState, action: RolloutAction): RolloutState {
  const to = TABLE[from][action];
  if (!to) throw new IllegalTransitionError(from, action);
  return to;
}

export function canDo(from: RolloutState, action: RolloutAction): boolean {
  return TABLE[from][action] !== undefined;
}

/**
 * The transitions an operator's rollback performs from `from`: from InProgress or Paused it aborts
 * first (→ Failed), then rolls back (→ RolledBack); from Failed it rolls back.
 */
export function rollbackPath(from: RolloutState): Array<[RolloutState, RolloutState]> {
  if (from === RolloutState.InProgress || from === RolloutState.Paused) {
    return [
      [from, RolloutState.Failed],
      [RolloutState.Failed, RolloutState.RolledBack],
    ];
  }
  return [[from, nextState(from, 'rollback')]];
}

export const ACTIVE_STATES: readonly RolloutState[] = [RolloutState.InProgress, RolloutState.Paused];
export const TERMINAL_STATES: readonly RolloutState[] = [RolloutState.Completed, RolloutState.RolledBack];
