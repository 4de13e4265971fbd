import { AnalysisGateSpec, AnalysisInput, analysisPending, evaluateAnalysisGate, evaluateAnalysisGates, TelemetryPoint } from './analysis-gates';
import { evaluateStepGates, GATE_DEFAULTS } from './gates';

const bucket = 10_000;
const t0 = 1_000_000_000_000; // a bucket boundary
const push = t0 + 3_000; // pushed 3 s into a bucket
const window = 60; // seconds

/** A fixed series: `perBucket` of one measure for each agent, in every bucket starting in [from, to). */
function series(agents: string[], measure: string, perBucket: number, from: number, to: number, signal: TelemetryPoint['signal'] = 'traces'): TelemetryPoint[] {
  const out: TelemetryPoint[] = [];
  for (const agentId of agents) for (let at = from; at < to; at += bucket) out.push({ agentId, at, signal, measure, value: perBucket });
  return out;
}

const agents = ['a1', 'a2', 'a3'];
const input = (points: TelemetryPoint[], extra: Partial<AnalysisInput> = {}): AnalysisInput => ({
  pushed: agents.map((agentId) => ({ agentId, pushedAt: push })),
  control: [],
  controlFrom: push,
  series: points,
  bucketMs: bucket,
  settleMs: 5_000,
  ...extra,
});
const spec = (s: Partial<AnalysisGateSpec> & Pick<AnalysisGateSpec, 'gate'>): AnalysisGateSpec => ({ threshold: 0.1, windowSeconds: window, minSample: 100, ...s });
/** When every window (and its last bucket, and the settle time) is over. */
const done = push + window * 1000 + bucket + 5_000;

describe('analysis gates (fixed series)', () => {
  it('export-failure-ratio trips as soon as the sample suffices, with the ratio before the push as baseline', () => {
    const before = [...series(agents, 'sent', 100, t0 - window * 1000, t0), ...series(agents, 'send_failed', 1, t0 - window * 1000, t0)];
    // after the push: 30 sent and 20 failed per agent and bucket: 40 % failing
    const after = [...series(agents, 'sent', 30, t0, t0 + 3 * bucket), ...series(agents, 'send_failed', 20, t0, t0 + 3 * bucket)];
    const r = evaluateAnalysisGate(spec({ gate: 'export-failure-ratio' }), input([...before, ...after]), t0 + 3 * bucket);
    expect(r).toMatchObject({ verdict: 'breach', observed: 0.4, numerator: 180, denominator: 450, sample: 450, baselineKind: 'before' });
    expect(r.baseline).toBeCloseTo(1 / 101, 6);
  });

  it('export-failure-ratio passes only once the window is over, and holds (pending) before', () => {
    const healthy = [...series(agents, 'sent', 100, t0, t0 + 8 * bucket), ...series(agents, 'send_failed', 1, t0, t0 + 8 * bucket)];
    expect(evaluateAnalysisGate(spec({ gate: 'export-failure-ratio' }), input(healthy), t0 + 4 * bucket).verdict).toBe('pending');
    expect(evaluateAnalysisGate(spec({ gate: 'export-failure-ratio' }), input(healthy), done)).toMatchObject({ verdict: 'pass', observed: expect.closeTo(1 / 101, 6) });
  });

  it('counts only buckets inside each agent\'s window: later failures do not count', () => {
    const points = [...series(agents, 'sent', 100, t0, t0 + 7 * bucket), ...series(agents, 'send_failed', 500, t0 + 7 * bucket, t0 + 9 * bucket)];
    expect(evaluateAnalysisGate(spec({ gate: 'export-failure-ratio' }), input(points), done + 2 * bucket)).toMatchObject({ verdict: 'pass', observed: 0 });
  });

  it('too little data is inconclusive once the window is over, pending before it, never a pass', () => {
    const few = [...series(['a1'], 'sent', 5, t0, t0 + 6 * bucket), ...series(['a1'], 'send_failed', 1, t0, t0 + 6 * bucket)];
    const gate = spec({ gate: 'export-failure-ratio', minSample: 1000 });
    expect(evaluateAnalysisGate(gate, input(few), t0 + 2 * bucket).verdict).toBe('pending');
    expect(evaluateAnalysisGate(gate, input(few), done)).toMatchObject({ verdict: 'inconclusive', sample: 36, minSample: 1000 });
    expect(evaluateAnalysisGate(gate, input([]), done)).toMatchObject({ verdict: 'inconclusive', observed: null, sample: 0 });
  });

  it('drop-ratio: processors\' dropped items, and incoming minus outgoing, over receivers\' accepted items', () => {
    const points = [
      ...series(agents, 'accepted', 100, t0, t0 + 6 * bucket),
      ...series(agents, 'dropped', 5, t0, t0 + 6 * bucket),
      ...series(agents, 'incoming', 100, t0, t0 + 6 * bucket),
      ...series(agents, 'outgoing', 80, t0, t0 + 6 * bucket),
    ];
    expect(evaluateAnalysisGate(spec({ gate: 'drop-ratio', threshold: 0.2 }), input(points), t0 + 6 * bucket)).toMatchObject({ verdict: 'breach', observed: 0.25, numerator: 450, denominator: 1800 });
    expect(evaluateAnalysisGate(spec({ gate: 'drop-ratio', threshold: 0.3 }), input(points), done).verdict).toBe('pass');
  });

  it('filters by signal when the gate names one', () => {
    const points = [...series(agents, 'sent', 100, t0, t0 + 6 * bucket, 'metrics'), ...series(agents, 'send_failed', 100, t0, t0 + 6 * bucket, 'logs')];
    expect(evaluateAnalysisGate(spec({ gate: 'export-failure-ratio', signal: 'metrics' }), input(points), done).verdict).toBe('pass');
    expect(evaluateAnalysisGate(spec({ gate: 'export-failure-ratio', signal: 'logs' }), input(points), done)).toMatchObject({ verdict: 'breach', observed: 1 });
  });

  it('throughput-drop against the same agents before the push waits for the whole window', () => {
    const before = series(agents, 'accepted', 1000, t0 - window * 1000, t0);
    const after = series(agents, 'accepted', 400, t0, t0 + 6 * bucket);
    const gate = spec({ gate: 'throughput-drop', threshold: 0.5 });
    expect(evaluateAnalysisGate(gate, input([...before, ...after]), t0 + 3 * bucket).verdict).toBe('pending');
    const r = evaluateAnalysisGate(gate, input([...before, ...after]), done);
    // before: 6 buckets × 1000 per agent over 60 s = 100/s; after: 2400 per agent over 63 s (the push's bucket on)
    expect(r).toMatchObject({ verdict: 'breach', baselineKind: 'before', baseline: 100, numerator: 7200, denominator: 18000 });
    expect(r.observed).toBeCloseTo(1 - 2400 / 63 / 100, 5);
    expect(evaluateAnalysisGate({ ...gate, threshold: 0.7 }, input([...before, ...after]), done).verdict).toBe('pass');
  });

  it('throughput-drop against the control: the group\'s agents not pushed yet, over the step', () => {
    const control = ['c1', 'c2'];
    const points = [...series(control, 'accepted', 1000, t0, t0 + 7 * bucket), ...series(agents, 'accepted', 1000, t0, t0 + 7 * bucket)];
    const gate = spec({ gate: 'throughput-drop', threshold: 0.2, baseline: 'control' });
    const r = evaluateAnalysisGate(gate, input(points, { control, controlFrom: push }), done);
    expect(r).toMatchObject({ verdict: 'pass', baselineKind: 'control' });
    const starved = [...series(control, 'accepted', 1000, t0, t0 + 7 * bucket), ...series(agents, 'accepted', 100, t0, t0 + 7 * bucket)];
    expect(evaluateAnalysisGate(gate, input(starved, { control, controlFrom: push }), done)).toMatchObject({ verdict: 'breach', observed: expect.closeTo(0.9, 1) });
    // no control agent reported: inconclusive, not a pass
    expect(evaluateAnalysisGate(gate, input(series(agents, 'accepted', 1000, t0, t0 + 7 * bucket), { control, controlFrom: push }), done).verdict).toBe('inconclusive');
  });

  it('evaluateStepGates judges the analysis verdicts after the built-in gates: a breach first, then an inconclusive', () => {
    const failing = [...series(agents, 'sent', 10, t0, t0 + 6 * bucket), ...series(agents, 'send_failed', 90, t0, t0 + 6 * bucket)];
    const results = evaluateAnalysisGates([spec({ gate: 'drop-ratio', minSample: 1e9 }), spec({ gate: 'export-failure-ratio' })], input(failing), done);
    expect(results.map((r) => r.verdict)).toEqual(['inconclusive', 'breach']);
    expect(evaluateStepGates(3, [], done, GATE_DEFAULTS, results)).toMatchObject({ gate: 'export-failure-ratio', verdict: 'breach', observed: 0.9, baseline: null, sample: 1800, windowSeconds: 60, agents: [] });
    expect(evaluateStepGates(3, [], done, GATE_DEFAULTS, [results[0]!])).toMatchObject({ gate: 'drop-ratio', verdict: 'inconclusive', sample: 0, minSample: 1e9 });
    // a built-in gate still comes first
    const failed = agents.map((agentId) => ({ agentId, state: 'Failed' as const, pushedAt: push }));
    expect(evaluateStepGates(3, failed, done, GATE_DEFAULTS, results)).toMatchObject({ gate: 'apply-failed-ratio' });
  });

  it('a step with a pending analysis gate holds; passes do not', () => {
    const healthy = series(agents, 'sent', 100, t0, t0 + 8 * bucket);
    const gates = [spec({ gate: 'export-failure-ratio' })];
    expect(analysisPending(evaluateAnalysisGates(gates, input(healthy), t0 + bucket))).toBe(true);
    const atEnd = evaluateAnalysisGates(gates, input(healthy), done);
    expect(analysisPending(atEnd)).toBe(false);
    expect(evaluateStepGates(3, [], done, GATE_DEFAULTS, atEnd)).toBeUndefined();
  });

  it('drop-ratio from processors\' incoming and outgoing items only (today\'s Collectors), bucket by bucket, before-push ratio as baseline', () => {
    const points = [
      // before the push: nothing dropped
      ...series(agents, 'accepted', 100, t0 - window * 1000, t0),
      ...series(agents, 'incoming', 100, t0 - window * 1000, t0),
      ...series(agents, 'outgoing', 100, t0 - window * 1000, t0),
      // after: a processor passes one item in two on
      ...series(agents, 'accepted', 100, t0, t0 + 2 * bucket),
      ...series(agents, 'incoming', 100, t0, t0 + 2 * bucket),
      ...series(agents, 'outgoing', 50, t0, t0 + 2 * bucket),
    ];
    const r = evaluateAnalysisGate(spec({ gate: 'drop-ratio', threshold: 0.2, minSample: 500 }), input(points), t0 + 2 * bucket);
    expect(r).toMatchObject({ verdict: 'breach', observed: 0.5, baseline: 0, numerator: 300, denominator: 600, sample: 600 });
    // one sample short of the minimum: no verdict yet, however high the ratio
    expect(evaluateAnalysisGate(spec({ gate: 'drop-ratio', threshold: 0.2, minSample: 601 }), input(points), t0 + 2 * bucket).verdict).toBe('pending');
    // a bucket where more left than came in (a batch carried over) drops nothing and cannot offset another bucket
    const carried = [
      ...series(['a1'], 'accepted', 100, t0, t0 + 2 * bucket),
      { agentId: 'a1', at: t0, signal: 'traces' as const, measure: 'incoming', value: 100 },
      { agentId: 'a1', at: t0, signal: 'traces' as const, measure: 'outgoing', value: 60 },
      { agentId: 'a1', at: t0 + bucket, signal: 'traces' as const, measure: 'incoming', value: 100 },
      { agentId: 'a1', at: t0 + bucket, signal: 'traces' as const, measure: 'outgoing', value: 140 },
    ];
    expect(evaluateAnalysisGate(spec({ gate: 'drop-ratio', threshold: 0.5, minSample: 100 }), input(carried), done)).toMatchObject({ verdict: 'pass', observed: 0.2, numerator: 40 });
  });

  it('drop-ratio: drops with no accepted items is no data (inconclusive), not a ratio', () => {
    const points = series(agents, 'dropped', 50, t0, t0 + 6 * bucket);
    expect(evaluateAnalysisGate(spec({ gate: 'drop-ratio', minSample: 0 }), input(points), done)).toMatchObject({ verdict: 'inconclusive', observed: null, sample: 0 });
  });

  it('throughput-drop never trips before the window is over, even at zero, and an agent that reports nothing counts as zero', () => {
    const before = series(agents, 'accepted', 1000, t0 - window * 1000, t0);
    const gate = spec({ gate: 'throughput-drop', threshold: 0.5 });
    // nothing at all after the push (a receiver that no longer listens where the traffic goes)
    expect(evaluateAnalysisGate(gate, input(before), t0 + 5 * bucket)).toMatchObject({ verdict: 'pending', observed: 1 });
    expect(evaluateAnalysisGate(gate, input(before), done)).toMatchObject({ verdict: 'breach', observed: 1, baseline: 100, numerator: 0 });
    // two agents keep sending, one goes silent: 7 buckets × 1000 from two agents over 3 × 63 agent-seconds
    const partly = [...before, ...series(['a1', 'a2'], 'accepted', 1000, t0, t0 + 7 * bucket)];
    const r = evaluateAnalysisGate({ ...gate, threshold: 0.2 }, input(partly), done);
    expect(r).toMatchObject({ verdict: 'breach', numerator: 14000, baseline: 100 });
    expect(r.observed!).toBeCloseTo(1 - 14000 / 189 / 100, 5);
    expect(evaluateAnalysisGate({ ...gate, threshold: 0.3 }, input(partly), done).verdict).toBe('pass');
  });

  it('throughput-drop: more throughput after the push passes (a negative drop); a baseline below the minimum sample is inconclusive', () => {
    const before = series(agents, 'accepted', 100, t0 - window * 1000, t0);
    const after = series(agents, 'accepted', 300, t0, t0 + 7 * bucket);
    const gate = spec({ gate: 'throughput-drop', threshold: 0.1, minSample: 1000 });
    const r = evaluateAnalysisGate(gate, input([...before, ...after]), done);
    expect(r).toMatchObject({ verdict: 'pass', sample: 1800 });
    expect(r.observed!).toBeLessThan(0);
    expect(evaluateAnalysisGate({ ...gate, minSample: 1801 }, input([...before, ...after]), done)).toMatchObject({ verdict: 'inconclusive', sample: 1800, minSample: 1801 });
  });
});
