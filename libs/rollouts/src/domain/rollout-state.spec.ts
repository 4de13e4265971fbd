import { canDo, IllegalTransitionError, nextState, rollbackPath, RolloutAction, RolloutState as S } from './rollout-state';

const ACTIONS: RolloutAction[] = ['start', 'pause', 'resume', 'complete', 'abort', 'rollback'];

/** Every (state, action) pair: the one table the machine must follow. */
const EXPECTED: Record<S, Partial<Record<RolloutAction, S>>> = {
  [S.Pending]: { start: S.InProgress, abort: S.Failed },
  [S.InProgress]: { pause: S.Paused, complete: S.Completed, abort: S.Failed },
  [S.Paused]: { resume: S.InProgress, abort: S.Failed },
  [S.Completed]: {},
  [S.Failed]: { rollback: S.RolledBack },
  [S.RolledBack]: {},
};

describe('rollout state machine', () => {
  for (const from of Object.values(S)) {
    for (const action of ACTIONS) {
      const to = EXPECTED[from][action];
      it(`${from} --${action}--> ${to ?? 'refused'}`, () => {
        if (to) {
          expect(nextState(from, action)).toBe(to);
          expect(canDo(from, action)).toBe(true);
        } else {
          expect(() => nextState(from, action)).toThrow(IllegalTransitionError);
          expect(canDo(from, action)).toBe(false);
        }
      });
    }
  }

  it('rolls back a running or paused rollout through Failed', () => {
    expect(rollbackPath(S.InProgress)).toEqual([
      [S.InProgress, S.Failed],
      [S.Failed, S.RolledBack],
    ]);
    expect(rollbackPath(S.Paused)).toEqual([
      [S.Paused, S.Failed],
      [S.Failed, S.RolledBack],
    ]);
    expect(rollbackPath(S.Failed)).toEqual([[S.Failed, S.RolledBack]]);
    expect(() => rollbackPath(S.Completed)).toThrow(IllegalTransitionError);
    expect(() => rollbackPath(S.Pending)).toThrow(IllegalTransitionError);
  });

  it('lets a Pending rollout be aborted (it never started: Failed, nothing else) but not rolled back', () => {
    expect(nextState(S.Pending, 'abort')).toBe(S.Failed);
    expect(canDo(S.Pending, 'rollback')).toBe(false);
    expect(canDo(S.Pending, 'complete')).toBe(false);
  });
});
