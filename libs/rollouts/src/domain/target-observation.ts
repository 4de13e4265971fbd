import type { TargetState } from './gates';

/** What the engine tracks per agent of a step (the columns of rollout_targets that change). */
export interface TargetSnapshot {
  state: TargetState;
  reason: string | null;
  pushedAt: Date | null;
  appliedAt: Date | null;
  disconnectedAt: Date | null;
  recovered: boolean;
  healthy: boolean | null;
  effectiveMatches: boolean | null;
}

/** What an agent said or did (a live event, or its inventory row). Absent fields: nothing new. */
export interface AgentObservation {
  remoteConfig?: { status: string; hash: string; errorMessage?: string };
  healthy?: boolean | null;
  effectiveHash?: string | null;
  /** The agent's session closed at this time. */
  disconnectedAt?: Date;
}

export interface ExpectedConfig {
  /** The hash pushed as the remote config (what RemoteConfigStatus reports). */
  configHash: string;
  /** The hash of the config content (what the effective config hashes to). */
  contentHash: string;
}

const OPEN: ReadonlySet<TargetState> = new Set(['Pending', 'Applying']);

/**
 * The target after an observation, or undefined when nothing changed. A target only moves forward
 * (Pending → Applying → Applied | Failed); statuses for another hash than the rollout's are ignored; a
 * disconnect is recorded once, after the push; the agent "recovers" when it is back with the version
 * applied (its status or its effective config).
 */
export function observeTarget(t: TargetSnapshot, o: AgentObservation, expected: ExpectedConfig, now: Date): TargetSnapshot | undefined {
  if (t.state === 'Skipped') return undefined;
  const next: TargetSnapshot = { ...t };
  let applied = false;
  if (o.remoteConfig && o.remoteConfig.hash === expected.configHash) {
    const { status } = o.remoteConfig;
    if (status === 'APPLIED') {
      applied = true;
      if (OPEN.has(t.state)) {
        next.state = 'Applied';
        next.appliedAt = now;
        next.reason = null;
        next.pushedAt = t.pushedAt ?? now;
      }
    } else if (status === 'FAILED' && OPEN.has(t.state)) {
      next.state = 'Failed';
      next.reason = o.remoteConfig.errorMessage || 'the agent reported FAILED without an error message';
      next.pushedAt = t.pushedAt ?? now;
    } else if (status === 'APPLYING' && t.state === 'Pending') {
      next.state = 'Applying';
      next.reason = null;
      next.pushedAt = t.pushedAt ?? now;
    }
  }
  if (o.healthy !== undefined && o.healthy !== null) next.healthy = o.healthy;
  if (o.effectiveHash) {
    next.effectiveMatches = o.effectiveHash === expected.contentHash;
    if (next.effectiveMatches) applied = true;
  }
  if (o.disconnectedAt && next.pushedAt && !t.disconnectedAt && o.disconnectedAt.getTime() >= next.pushedAt.getTime()) {
    next.disconnectedAt = o.disconnectedAt;
    next.recovered = false;
  } else if (applied && t.disconnectedAt && !o.disconnectedAt) {
    next.recovered = true;
  }
  return same(t, next) ? undefined : next;
}

function same(a: TargetSnapshot, b: TargetSnapshot): boolean {
  const time = (d: Date | null) => d?.getTime() ?? null;
  return (
    a.state === b.state &&
    a.reason === b.reason &&
    time(a.pushedAt) === time(b.pushedAt) &&
    time(a.appliedAt) === time(b.appliedAt) &&
    time(a.disconnectedAt) === time(b.disconnectedAt) &&
    a.recovered === b.recovered &&
    a.healthy === b.healthy &&
    a.effectiveMatches === b.effectiveMatches
  );
}
