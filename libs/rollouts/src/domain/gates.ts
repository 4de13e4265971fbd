/** Health gates (pure): the rules that pause a rollout by themselves. */
export type GateName = 'apply-failed-ratio' | 'unhealthy-ratio' | 'effective-mismatch-ratio' | 'disconnect-ratio';

export interface GateSettings {
  applyFailedRatio: number;
  disconnectRatio: number;
  disconnectWindowSeconds: number;
  effectiveMismatchRatio: number;
  effectiveMismatchTimeoutSeconds: number;
  unhealthyRatio: number;
  unhealthyTimeoutSeconds: number;
}

export const GATE_DEFAULTS: GateSettings = {
  applyFailedRatio: 0.2,
  disconnectRatio: 0.2,
  disconnectWindowSeconds: 300,
  effectiveMismatchRatio: 0.2,
  effectiveMismatchTimeoutSeconds: 600,
  unhealthyRatio: 0.1,
  unhealthyTimeoutSeconds: 600,
};

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
}

/**
 * Evaluates the gates over the agents of the current step that received the push (the denominator;
 * skipped and not yet pushed agents do not count). Returns the first breach in the order
 * apply-failed → unhealthy → effective-mismatch → disconnect, or undefined. A ratio breaches when it
 * is strictly above its threshold.
 */
export function evaluateGates(targets: TargetObservation[], now: number, g: GateSettings): GateBreach | undefined {
  const pushed = targets.filter((t) => t.pushedAt !== undefined && t.state !== 'Skipped');
  const n = pushed.length;
  if (n === 0) return undefined;
  const check = (gate: GateName, threshold: number, hit: (t: TargetObservation) => boolean): GateBreach | undefined => {
    const agents = pushed.filter(hit).map((t) => t.agentId);
    const observed = agents.length / n;
    return observed > threshold ? { gate, observed, threshold, numerator: agents.length, denominator: n, agents } : undefined;
  };
  const after = (t: TargetObservation, seconds: number) => now - t.pushedAt! >= seconds * 1000;
  return (
    check('apply-failed-ratio', g.applyFailedRatio, (t) => t.state === 'Failed') ??
    check('unhealthy-ratio', g.unhealthyRatio, (t) => t.healthy === false && after(t, g.unhealthyTimeoutSeconds)) ??
    check('effective-mismatch-ratio', g.effectiveMismatchRatio, (t) => t.state === 'Applied' && t.effectiveMatches === false && after(t, g.effectiveMismatchTimeoutSeconds)) ??
    check(
      'disconnect-ratio',
      g.disconnectRatio,
      (t) => t.disconnectedAt !== undefined && t.disconnectedAt - t.pushedAt! <= g.disconnectWindowSeconds * 1000 && !t.recovered,
    )
  );
}

/** The earliest time (ms) at which a timed gate could change its verdict, for the tick scheduler. */
export function nextGateDeadline(targets: TargetObservation[], now: number, g: GateSettings): number | undefined {
  const times = targets
    .filter((t) => t.pushedAt !== undefined)
    .flatMap((t) => [t.pushedAt! + g.unhealthyTimeoutSeconds * 1000, t.pushedAt! + g.effectiveMismatchTimeoutSeconds * 1000])
    .filter((at) => at > now);
  return times.length ? Math.min(...times) : undefined;
}
