import { progressPayload, TargetCounts } from './progress-event';

const counts = (over: Partial<TargetCounts>): TargetCounts => ({ pending: 0, applying: 0, applied: 0, failed: 0, skipped: 0, disconnectedSincePush: 0, total: 0, ...over });

describe('rollout.progress payload', () => {
  it('names rollout-level and step-level numbers apart, and keeps the fields clients read', () => {
    const step0 = counts({ applied: 3, total: 3 });
    const step1 = counts({ applied: 2, applying: 4, total: 6 });
    const all = counts({ applied: 5, applying: 4, total: 9 });
    const p = progressPayload('r1', 1, { total: all, steps: new Map([[0, step0], [1, step1]]) }, 30);
    expect(p).toEqual({ rolloutId: 'r1', step: 1, counts: all, rolloutCounts: all, rolloutTotal: 30, stepCounts: step1, stepTotal: 6 });
  });

  it('has no step counts before the step took agents, and never a rollout total below what was taken', () => {
    const all = counts({ applied: 12, total: 12 });
    const p = progressPayload('r1', 2, { total: all, steps: new Map() }, 10);
    expect(p.stepCounts).toBeNull();
    expect(p.stepTotal).toBe(0);
    expect(p.rolloutTotal).toBe(12);
  });
});
