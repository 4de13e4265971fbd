/**
 * Analysis gates (pure; decision 0321): rollout gates over the collectors' own telemetry after the
 * push. `export-failure-ratio` (exporters' send-failed / (sent + send-failed)), `drop-ratio`
 * (processors' dropped / receivers' accepted) and `throughput-drop` (accepted items per second against
 * the same agents before the push, or against the group's agents not pushed yet). Each has a threshold,
 * a window after each agent's push and a minimum sample: too little data is `inconclusive` once the
 * window is over (reported, never passed), `pending` before.
 */

export type AnalysisGateName = 'export-failure-ratio' | 'drop-ratio' | 'throughput-drop';
export const ANALYSIS_GATES: readonly AnalysisGateName[] = ['export-failure-ratio', 'drop-ratio', 'throughput-drop'];

export type TelemetrySignal = 'traces' | 'metrics' | 'logs';

export interface AnalysisGateSpec {
  gate: AnalysisGateName;
  /** Trips strictly above: a ratio for the ratio gates, the fraction of throughput lost for throughput-drop. */
  threshold: number;
  /** Seconds after each agent's push that count. */
  windowSeconds: number;
  /** Items needed for a verdict: exports (sent + failed), accepted items, or the baseline's accepted items. */
  minSample: number;
  /** throughput-drop only: the same agents before the push (default), or the group's agents not pushed yet. */
  baseline?: 'before' | 'control';
  /** Only this signal's items (default: all). */
  signal?: TelemetrySignal;
}

/** What one agent's components counted in one rollup bucket (summed over components). */
export interface TelemetryPoint {
  agentId: string;
  /** Bucket start (ms). */
  at: number;
  signal: TelemetrySignal;
  /** accepted, dropped, incoming, outgoing, sent, send_failed (others are ignored). */
  measure: string;
  value: number;
}

export interface AnalysisInput {
  /** The step's pushed agents and when each was pushed (ms). */
  pushed: Array<{ agentId: string; pushedAt: number }>;
  /** The group's agents not pushed yet (throughput-drop's control). */
  control: string[];
  /** Where the control's window starts (ms): the step's start. */
  controlFrom: number;
  series: TelemetryPoint[];
  bucketMs: number;
  /** How long after a bucket ends its data may still arrive (export interval, flush). */
  settleMs: number;
}

export type AnalysisVerdict = 'pass' | 'breach' | 'inconclusive' | 'pending';

export interface AnalysisResult {
  gate: AnalysisGateName;
  verdict: AnalysisVerdict;
  /** The ratio (or throughput lost) after the push; null without data. */
  observed: number | null;
  /** The same measure before the push (ratio gates), or the baseline's items per second (throughput-drop). */
  baseline: number | null;
  baselineKind: 'before' | 'control';
  threshold: number;
  /** Numerator and denominator of `observed` (throughput-drop: items after, baseline items). */
  numerator: number;
  denominator: number;
  sample: number;
  minSample: number;
  windowSeconds: number;
}

interface Sums {
  accepted: number;
  dropped: number;
  sent: number;
  failed: number;
  /** Agent-seconds the sums cover. */
  seconds: number;
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;

/** Sums of the agents' buckets that start in each agent's [from, to). */
function sumWindows(series: TelemetryPoint[], windows: Map<string, { from: number; to: number }>, signal?: TelemetrySignal): Sums {
  const s: Sums = { accepted: 0, dropped: 0, sent: 0, failed: 0, seconds: 0 };
  for (const w of windows.values()) s.seconds += Math.max(0, w.to - w.from) / 1000;
  // a processor's dropped items include incoming minus outgoing, per agent, bucket and signal
  const flow = new Map<string, { incoming: number; outgoing: number }>();
  for (const p of series) {
    const w = windows.get(p.agentId);
    if (!w || p.at < w.from || p.at >= w.to || (signal && p.signal !== signal)) continue;
    if (p.measure === 'accepted') s.accepted += p.value;
    else if (p.measure === 'dropped') s.dropped += p.value;
    else if (p.measure === 'sent') s.sent += p.value;
    else if (p.measure === 'send_failed') s.failed += p.value;
    else if (p.measure === 'incoming' || p.measure === 'outgoing') {
      const key = `${p.agentId}|${p.at}|${p.signal}`;
      const f = flow.get(key) ?? { incoming: 0, outgoing: 0 };
      f[p.measure] += p.value;
      flow.set(key, f);
    }
  }
  for (const f of flow.values()) s.dropped += Math.max(0, f.incoming - f.outgoing);
  return s;
}

/** One analysis gate's verdict at `now`. */
export function evaluateAnalysisGate(spec: AnalysisGateSpec, input: AnalysisInput, now: number): AnalysisResult {
  const windowMs = spec.windowSeconds * 1000;
  const after = new Map<string, { from: number; to: number }>();
  const before = new Map<string, { from: number; to: number }>();
  for (const p of input.pushed) {
    const start = floorTo(p.pushedAt, input.bucketMs);
    after.set(p.agentId, { from: start, to: Math.min(now, p.pushedAt + windowMs) });
    before.set(p.agentId, { from: start - windowMs, to: start });
  }
  const lastPush = input.pushed.reduce((m, p) => Math.max(m, p.pushedAt), 0);
  const complete = input.pushed.length > 0 && now >= lastPush + windowMs + input.bucketMs + input.settleMs;
  const baselineKind = spec.gate === 'throughput-drop' && spec.baseline === 'control' ? 'control' : 'before';
  const base = { gate: spec.gate, threshold: spec.threshold, minSample: spec.minSample, windowSeconds: spec.windowSeconds, baselineKind } as const;
  const a = sumWindows(input.series, after, spec.signal);
  const b =
    baselineKind === 'control'
      ? sumWindows(input.series, new Map(input.control.map((id) => [id, { from: floorTo(input.controlFrom, input.bucketMs), to: now }])), spec.signal)
      : sumWindows(input.series, before, spec.signal);
  const ratio = (n: number, d: number) => (d > 0 ? n / d : null);
  let numerator: number;
  let denominator: number;
  let observed: number | null;
  let baseline: number | null;
  let sample: number;
  let tripsEarly = true;
  if (spec.gate === 'export-failure-ratio') {
    [numerator, denominator, sample] = [a.failed, a.sent + a.failed, a.sent + a.failed];
    observed = ratio(numerator, denominator);
    baseline = ratio(b.failed, b.sent + b.failed);
  } else if (spec.gate === 'drop-ratio') {
    [numerator, denominator, sample] = [a.dropped, a.accepted, a.accepted];
    observed = ratio(numerator, denominator);
    baseline = ratio(b.dropped, b.accepted);
  } else {
    // throughput after against the baseline's, both per agent-second; only judged on a whole window
    tripsEarly = false;
    [numerator, denominator, sample] = [a.accepted, b.accepted, b.accepted];
    baseline = ratio(b.accepted, b.seconds);
    const current = ratio(a.accepted, a.seconds);
    observed = baseline && current !== null ? 1 - current / baseline : null;
  }
  const result = { ...base, observed: round(observed), baseline: round(baseline), numerator, denominator, sample };
  if (sample < spec.minSample || observed === null) return { ...result, verdict: complete ? 'inconclusive' : 'pending' };
  if (observed > spec.threshold && (tripsEarly || complete)) return { ...result, verdict: 'breach' };
  return { ...result, verdict: complete ? 'pass' : 'pending' };
}

/** Every analysis gate's verdict, in the order they were given. */
export function evaluateAnalysisGates(specs: readonly AnalysisGateSpec[], input: AnalysisInput, now: number): AnalysisResult[] {
  return specs.map((spec) => evaluateAnalysisGate(spec, input, now));
}

/** Whether a step must wait for its analysis (some gate has no verdict yet). */
export function analysisPending(results: readonly AnalysisResult[]): boolean {
  return results.some((r) => r.verdict === 'pending');
}

function round(n: number | null): number | null {
  return n === null ? null : Math.round(n * 1e6) / 1e6;
}
