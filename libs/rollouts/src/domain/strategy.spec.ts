import { dwellAfter, normalizeStrategy, stepCount, STRATEGY_DEFAULTS } from './strategy';

describe('strategies', () => {
  it('fills the documented defaults', () => {
    expect(normalizeStrategy({ type: 'Batch' })).toEqual({ ok: true, strategy: { type: 'Batch', batchSize: 5 } });
    expect(normalizeStrategy({ type: 'Percentage' })).toEqual({ ok: true, strategy: { type: 'Percentage', steps: [5, 25, 50, 100] } });
    expect(normalizeStrategy({ type: 'Canary' })).toEqual({ ok: true, strategy: { type: 'Canary', steps: STRATEGY_DEFAULTS.canary } });
    expect(STRATEGY_DEFAULTS.canary.map((s) => [s.percent, s.dwellSeconds])).toEqual([
      [5, 300],
      [25, 600],
      [50, 1800],
      [100, 0],
    ]);
  });

  it.each([
    [{ type: 'Percentage', steps: [5, 25, 50] }, 'strategy.steps.2', 'the last step must be 100'],
    [{ type: 'Percentage', steps: [50, 25, 100] }, 'strategy.steps.1', 'steps must grow'],
    [{ type: 'Percentage', steps: [0, 100] }, 'strategy.steps.0', 'a percentage is above 0 and at most 100'],
    [{ type: 'Percentage', steps: [] }, 'strategy.steps', 'needs at least one step'],
    [{ type: 'Percentage', steps: [{ percent: 100, dwellSeconds: 1 }] }, 'strategy.steps', 'Percentage steps are plain numbers'],
    [{ type: 'Canary', steps: [{ percent: 10, dwellSeconds: 60 }] }, 'strategy.steps.0', 'the last step must be 100'],
    [{ type: 'Canary', steps: [{ percent: 100, dwellSeconds: -1 }] }, 'strategy.steps.0.dwellSeconds', 'must be a whole number of seconds, 0 or more'],
    [{ type: 'Canary', steps: [10, 100] }, 'strategy.steps', 'Canary steps are { percent, dwellSeconds }'],
    [{ type: 'Batch', batchSize: 0 }, 'strategy.batchSize', 'must be a whole number of at least 1'],
    [{ type: 'Batch', steps: [100] }, 'strategy.steps', 'a Batch strategy has no steps; use batchSize'],
    [{ type: 'Canary', batchSize: 3 }, 'strategy.batchSize', 'a Canary strategy has steps, not a batch size'],
  ] as const)('refuses %j', (input, field, message) => {
    const result = normalizeStrategy(input as never);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toContainEqual({ field, message });
  });

  it('counts steps and dwell times', () => {
    expect(stepCount({ type: 'Batch', batchSize: 5 }, 12)).toBe(3);
    expect(stepCount({ type: 'Batch', batchSize: 5 }, 0)).toBe(1);
    expect(stepCount({ type: 'Percentage', steps: [10, 100] }, 1000)).toBe(2);
    expect(dwellAfter({ type: 'Canary', steps: [{ percent: 5, dwellSeconds: 300 }, { percent: 100, dwellSeconds: 0 }] }, 0, 99)).toBe(300);
    expect(dwellAfter({ type: 'Percentage', steps: [50, 100] }, 0, 99)).toBe(99);
  });
});
