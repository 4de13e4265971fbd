import type { AnalysisGateName, AnalysisGateSpec, AnalysisResult } from './analysis-gates';

/** Health gates (pure): the rules that pause a rollout by themselves. */
export type BuiltInGateName = 'apply-failed-ratio' | 'unhealthy-ratio' | 'effective-mismatch-ratio' | 'disconnect-ratio';
/** The built-in gates and the analysis gates over the agents' own telemetry (analysis-gates.ts). */
export type GateName = BuiltInGateName | AnalysisGateName;

export interface GateSettings {
  applyFailedRatio: number;
  disconnectRatio: number;
  disconnectWindowSeconds: number;
  effectiveMismatchRatio: number;
  effectiveMismatchTimeoutSeconds: number;
  unhealthyRatio: number;
  unhealthyTimeoutSeconds: number;
  /** A disconnect counts once it has lasted this long (a collector restarting to apply is no failure). */
  disconnectGraceSeconds: number;
  /** A pushed target still not Applied/Failed after this long is Failed; an unpushed one Skipped. */
  applyTimeoutSeconds: number;
  /** Analysis gates over the agents' own telemetry (decision 0321); none by default. */
  analysis?: AnalysisGateSpec[];
}

export const GATE_DEFAULTS: GateSettings = {
  applyFailedRatio: 0.2,
  disconnectRatio: 0.2,
  disconnectWindowSeconds: 300,
  effectiveMismatchRatio: 0.2,
  effectiveMismatchTimeoutSeconds: 600,
  unhealthyRatio: 0.1,
  unhealthyTimeoutSeconds: 600,
  disconnectGraceSeconds: 15,
  applyTimeoutSeconds: 600,
};

/** The gates' inputs for one step: the denominator and each gate's numerator. */
export interface GateCounts {
  /** Agents of the step that received the push (Skipped ones excluded). */
  pushed: number;
  failed: number;
  unhealthy: number;
  mismatched: number;
  disconnected: number;
}

export const GATE_ORDER: readonly BuiltInGateName[] = ['apply-failed-ratio', 'unhealthy-ratio', 'effective-mismatch-ratio', 'disconnect-ratio'];

/** The first gate (in GATE_ORDER) whose ratio is strictly above its threshold, or undefined. */
export function evaluateGateCounts(c: GateCounts, g: GateSettings): Omit<GateBreach, 'agents'> | undefined {
  if (c.pushed === 0) return undefined;
  const rules: Record<BuiltInGateName, [number, number]> = {
    'apply-failed-ratio': [c.failed, g.applyFailedRatio],
    'unhealthy-ratio': [c.unhealthy, g.unhealthyRatio],
    'effective-mismatch-ratio': [c.mismatched, g.effectiveMismatchRatio],
    'disconnect-ratio': [c.disconnected, g.disconnectRatio],
  };
  for (const gate of GATE_ORDER) {
    const [numerator, threshold] = rules[gate];
    const observed = numerator / c.pushed;
    if (observed > threshold) return { gate, observed, threshold, numerator, denominator: c.pushed };
  }
  return undefined;
}

export type TargetState = 'Pending' | 'Applying' | 'Applied' | 'Failed' | 'Skipped';

/** What the gates know of one agent of the current step. */
export interface TargetObservation {
  agentId: string;
  state: TargetState;
  /** When the step's push went to this agent (ms); undefined when it was not pushed. */
  pushedAt?: number;
  /** First disconnect after the push (ms). */
  disconnectedAt?: number;
  /** The agent came back and reported the expected effective config. */
  recovered?: boolean;
  /** Effective config equals the assigned one: true, false, or unknown (undefined). */
  effectiveMatches?: boolean;
  /** Reported health: true, false, or unknown. */
  healthy?: boolean;
}

export interface GateBreach {
  gate: GateName;
  /** Observed ratio, 0..1. */
  observed: number;
  threshold: number;
  numerator: number;
  denominator: number;
  agents: string[];
  /** Analysis gates: `breach`, or `inconclusive` (too little data once the window was over). */
  verdict?: 'breach' | 'inconclusive';
  /** Analysis gates: the same measure before the push, or the control's throughput (items/s). */
  baseline?: number | null;
  baselineKind?: 'before' | 'control';
  sample?: number;
  minSample?: number;
  windowSeconds?: number;
}

/**
 * Evaluates the gates over the agents of the current step that received the push (the denominator;
 * skipped and not yet pushed agents do not count). Returns the first breach in the order
 * apply-failed → unhealthy → effective-mismatch → disconnect, or undefined. A ratio breaches when it
 * is strictly above its threshold.
 */
export function evaluateGates(targets: TargetObservation[], now: number, g: GateSettings): GateBreach | undefined {
  const pushed = targets.filter(isPushed);
  return evaluateStepGates(pushed.length, pushed, now, g);
}

/** Agents a breach names, at most (the first in the step's order). */
export const BREACH_AGENTS_LIMIT = 100;

/**
 * The same verdict as `evaluateGates`, from what the engine reads of a step: how many of its targets
 * were pushed (the denominator) and, in the step's order, the pushed targets that show a sign of
 * trouble (`mayTripGate`; the others cannot count for any gate, so a healthy step of 10,000 agents
 * reads no row). The breach names at most BREACH_AGENTS_LIMIT agents.
 */
export function evaluateStepGates(pushedCount: number, troubled: TargetObservation[], now: number, g: GateSettings, analysis: readonly AnalysisResult[] = []): GateBreach | undefined {
  const hits = gateHits(troubled.filter(isPushed), now, g);
  const breach = evaluateGateCounts(
    { pushed: pushedCount, failed: hits['apply-failed-ratio'].length, unhealthy: hits['unhealthy-ratio'].length, mismatched: hits['effective-mismatch-ratio'].length, disconnected: hits['disconnect-ratio'].length },
    g,
  );
  if (breach) return { ...breach, agents: hits[breach.gate as BuiltInGateName].slice(0, BREACH_AGENTS_LIMIT) };
  // then the analysis gates (their verdicts at `now`, analysis-gates.ts): a breach, or too little data
  const stop = analysis.find((r) => r.verdict === 'breach') ?? analysis.find((r) => r.verdict === 'inconclusive');
  if (!stop) return undefined;
  return {
    gate: stop.gate,
    observed: stop.observed ?? 0,
    threshold: stop.threshold,
    numerator: Math.round(stop.numerator),
    denominator: Math.round(stop.denominator),
    agents: [],
    verdict: stop.verdict as 'breach' | 'inconclusive',
    baseline: stop.baseline,
    baselineKind: stop.baselineKind,
    sample: stop.sample,
    minSample: stop.minSample,
    windowSeconds: stop.windowSeconds,
  };
}

function isPushed(t: TargetObservation): boolean {
  return t.pushedAt !== undefined && t.state !== 'Skipped';
}

/**
 * Whether a pushed target shows any sign a gate could count (Failed, unhealthy, Applied with another
 * effective config, or disconnected and not back), whatever the time: every gate of `gateHits` counts
 * only such targets, so reading only these loses nothing. The engine's query selects exactly these.
 */
export function mayTripGate(t: Pick<TargetObservation, 'state' | 'healthy' | 'effectiveMatches' | 'disconnectedAt' | 'recovered'>): boolean {
  return t.state === 'Failed' || t.healthy === false || (t.state === 'Applied' && t.effectiveMatches === false) || (t.disconnectedAt !== undefined && !t.recovered);
}

/** Which pushed agents each gate counts. */
export function gateHits(pushed: TargetObservation[], now: number, g: GateSettings): Record<BuiltInGateName, string[]> {
  const after = (t: TargetObservation, seconds: number) => now - t.pushedAt! >= seconds * 1000;
  const ids = (hit: (t: TargetObservation) => boolean) => pushed.filter(hit).map((t) => t.agentId);
  return {
    'apply-failed-ratio': ids((t) => t.state === 'Failed'),
    'unhealthy-ratio': ids((t) => t.healthy === false && after(t, g.unhealthyTimeoutSeconds)),
    'effective-mismatch-ratio': ids((t) => t.state === 'Applied' && t.effectiveMatches === false && after(t, g.effectiveMismatchTimeoutSeconds)),
    'disconnect-ratio': ids(
      (t) =>
        t.disconnectedAt !== undefined &&
        t.disconnectedAt - t.pushedAt! <= g.disconnectWindowSeconds * 1000 &&
        now - t.disconnectedAt >= g.disconnectGraceSeconds * 1000 &&
        !t.recovered,
    ),
  };
}

/** The earliest time (ms) at which a timed gate could change its verdict, for the tick scheduler. */
export function nextGateDeadline(targets: TargetObservation[], now: number, g: GateSettings): number | undefined {
  const times = targets
    .filter((t) => t.pushedAt !== undefined)
    .flatMap((t) => [t.pushedAt! + g.unhealthyTimeoutSeconds * 1000, t.pushedAt! + g.effectiveMismatchTimeoutSeconds * 1000])
    .filter((at) => at > now);
  return times.length ? Math.min(...times) : undefined;
}
