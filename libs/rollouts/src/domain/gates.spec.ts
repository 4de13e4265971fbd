import { BREACH_AGENTS_LIMIT, evaluateGateCounts, evaluateGates, evaluateStepGates, GATE_DEFAULTS, mayTripGate, nextGateDeadline, TargetObservation } from './gates';

const now = 1_000_000_000;
const min = 60_000;
const pushed = (id: string, fields: Partial<TargetObservation> = {}): TargetObservation => ({ agentId: id, state: 'Applied', pushedAt: now - min, ...fields });
const many = (n: number, fields: Partial<TargetObservation> = {}) => Array.from({ length: n }, (_, i) => pushed(`a${i}`, fields));

describe('health gates', () => {
  it('apply-failed-ratio trips strictly above 20 % of the agents pushed in the step', () => {
    expect(evaluateGates([...many(8), pushed('f1', { state: 'Failed' }), pushed('f2', { state: 'Failed' })], now, GATE_DEFAULTS)).toBeUndefined();
    const breach = evaluateGates([...many(7), ...['f1', 'f2', 'f3'].map((id) => pushed(id, { state: 'Failed' }))], now, GATE_DEFAULTS);
    expect(breach).toMatchObject({ gate: 'apply-failed-ratio', observed: 0.3, threshold: 0.2, numerator: 3, denominator: 10, agents: ['f1', 'f2', 'f3'] });
  });

  it('counts only agents that received the push: skipped and pending ones are not in the denominator', () => {
    const targets = [
      pushed('f', { state: 'Failed' }),
      ...many(3),
      { agentId: 's1', state: 'Skipped' as const },
      { agentId: 'p1', state: 'Pending' as const },
      { agentId: 'p2', state: 'Pending' as const },
    ];
    expect(evaluateGates(targets, now, GATE_DEFAULTS)).toMatchObject({ gate: 'apply-failed-ratio', denominator: 4, observed: 0.25 });
    expect(evaluateGates([{ agentId: 's', state: 'Skipped' }], now, GATE_DEFAULTS)).toBeUndefined();
  });

  it('unhealthy-ratio (10 %) waits for its timeout after the push', () => {
    const targets = [...many(8), pushed('u1', { healthy: false }), pushed('u2', { healthy: false })];
    expect(evaluateGates(targets, now, GATE_DEFAULTS)).toBeUndefined(); // pushed a minute ago, timeout 10 min
    expect(evaluateGates(targets, now + 9 * min, GATE_DEFAULTS)).toMatchObject({ gate: 'unhealthy-ratio', observed: 0.2 });
    expect(evaluateGates(targets.map((t) => ({ ...t, healthy: t.healthy ?? true })), now + 9 * min, { ...GATE_DEFAULTS, unhealthyRatio: 0.2 })).toBeUndefined();
  });

  it('effective-mismatch-ratio counts applied agents whose effective config differs, after the timeout; unknown is not a mismatch', () => {
    const targets = [...many(5), ...['m1', 'm2'].map((id) => pushed(id, { effectiveMatches: false })), ...many(3, { effectiveMatches: undefined })];
    expect(evaluateGates(targets, now + 8 * min, GATE_DEFAULTS)).toBeUndefined();
    expect(evaluateGates(targets, now + 10 * min, GATE_DEFAULTS)).toBeUndefined(); // 2/10 is not above 20 %
    targets.push(pushed('m3', { effectiveMatches: false }));
    expect(evaluateGates(targets, now + 10 * min, GATE_DEFAULTS)).toMatchObject({ gate: 'effective-mismatch-ratio', numerator: 3, denominator: 11 });
  });

  it('disconnect-ratio counts disconnects within the window after the push that did not recover', () => {
    const push = now - min;
    const targets = [
      ...many(6),
      pushed('d1', { disconnectedAt: push + 30_000 }),
      pushed('d2', { disconnectedAt: push + 60_000 }),
      pushed('d3', { disconnectedAt: push + 90_000, recovered: true }),
      pushed('late', { disconnectedAt: push + 6 * min }),
    ];
    const noGrace = { ...GATE_DEFAULTS, disconnectGraceSeconds: 0 };
    expect(evaluateGates(targets, now, noGrace)).toBeUndefined(); // 2/10
    targets.push(pushed('d4', { disconnectedAt: push + 1000 }));
    expect(evaluateGates(targets, now, noGrace)).toMatchObject({ gate: 'disconnect-ratio', numerator: 3, denominator: 11, agents: ['d1', 'd2', 'd4'] });
  });

  it('a disconnect counts only once it has lasted the grace period', () => {
    const targets = [...many(2), pushed('d1', { disconnectedAt: now - 5_000 })];
    expect(evaluateGates(targets, now, GATE_DEFAULTS)).toBeUndefined(); // 5 s < 15 s grace
    expect(evaluateGates(targets, now + 10_000, GATE_DEFAULTS)).toMatchObject({ gate: 'disconnect-ratio', numerator: 1, denominator: 3 });
  });

  it('evaluates precomputed counts with the same order and strict thresholds', () => {
    expect(evaluateGateCounts({ pushed: 10, failed: 2, unhealthy: 1, mismatched: 2, disconnected: 2 }, GATE_DEFAULTS)).toBeUndefined();
    expect(evaluateGateCounts({ pushed: 10, failed: 0, unhealthy: 2, mismatched: 3, disconnected: 0 }, GATE_DEFAULTS)).toMatchObject({ gate: 'unhealthy-ratio', observed: 0.2 });
    expect(evaluateGateCounts({ pushed: 0, failed: 0, unhealthy: 0, mismatched: 0, disconnected: 0 }, GATE_DEFAULTS)).toBeUndefined();
  });

  it('reports the first breach in the order apply-failed, unhealthy, effective-mismatch, disconnect', () => {
    const all = [
      pushed('x1', { state: 'Failed', healthy: false, disconnectedAt: now - min + 1 }),
      pushed('x2', { state: 'Failed', healthy: false, effectiveMatches: false, disconnectedAt: now - min + 1 }),
      pushed('x3', { healthy: false, effectiveMatches: false, disconnectedAt: now - min + 1 }),
      ...many(2),
    ];
    expect(evaluateGates(all, now + 20 * min, GATE_DEFAULTS)!.gate).toBe('apply-failed-ratio');
    expect(evaluateGates(all.map((t) => ({ ...t, state: 'Applied' as const })), now + 20 * min, GATE_DEFAULTS)!.gate).toBe('unhealthy-ratio');
    expect(evaluateGates(all.map((t) => ({ ...t, state: 'Applied' as const, healthy: undefined })), now + 20 * min, GATE_DEFAULTS)!.gate).toBe('effective-mismatch-ratio');
    expect(evaluateGates(all.map((t) => ({ ...t, state: 'Applied' as const, healthy: undefined, effectiveMatches: undefined })), now + 20 * min, GATE_DEFAULTS)!.gate).toBe('disconnect-ratio');
  });

  it('tells the scheduler when a timed gate can next change its verdict', () => {
    expect(nextGateDeadline([pushed('a'), { agentId: 'p', state: 'Pending' }], now, GATE_DEFAULTS)).toBe(now - min + 10 * min);
    expect(nextGateDeadline([pushed('a')], now + 11 * min, GATE_DEFAULTS)).toBeUndefined();
  });
});

describe('evaluateStepGates (what the engine runs)', () => {
  const signs: Array<Partial<TargetObservation>> = [
    {},
    { state: 'Failed' },
    { healthy: false },
    { healthy: true },
    { effectiveMatches: false },
    { state: 'Applying', effectiveMatches: false },
    { disconnectedAt: now - min + 1000 },
    { disconnectedAt: now - min + 1000, recovered: true },
    { disconnectedAt: now - 1000 },
  ];
  const at = [now, now + 9 * min, now + 11 * min];

  it('only targets with a sign of trouble can count for a gate (reading just those loses nothing)', () => {
    for (const fields of signs) {
      for (const t of at) {
        const target = pushed('x', fields);
        const breach = evaluateGates([target], t, { ...GATE_DEFAULTS, applyFailedRatio: 0, unhealthyRatio: 0, effectiveMismatchRatio: 0, disconnectRatio: 0 });
        if (breach) expect(mayTripGate(target)).toBe(true);
      }
    }
  });

  it('gives evaluateGates’ verdict from the pushed count and the troubled targets alone', () => {
    const targets = signs.flatMap((fields, i) => many(3, fields).map((t) => ({ ...t, agentId: `${i}-${t.agentId}` })));
    for (const t of at) {
      for (const g of [GATE_DEFAULTS, { ...GATE_DEFAULTS, unhealthyRatio: 0.05, disconnectRatio: 0.05 }, { ...GATE_DEFAULTS, applyFailedRatio: 0.5 }]) {
        expect(evaluateStepGates(targets.length, targets.filter(mayTripGate), t, g)).toEqual(evaluateGates(targets, t, g));
      }
    }
  });

  it('names at most the first 100 agents a gate counts', () => {
    const breach = evaluateStepGates(300, many(150, { state: 'Failed' }), now, GATE_DEFAULTS);
    expect(breach).toMatchObject({ gate: 'apply-failed-ratio', numerator: 150, denominator: 300 });
    expect(breach!.agents).toHaveLength(BREACH_AGENTS_LIMIT);
    expect(breach!.agents[0]).toBe('a0');
  });
});
