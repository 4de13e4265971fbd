import type { TargetState } from './gates';

/** What the engine tracks per agent of a step (the columns of rollout_targets that change). */
export interface TargetSnapshot {
  state: TargetState;
  /** The rollout's version was assigned to the agent; statuses count only from then on. */
  assigned: boolean;
  assignedAt: Date | null;
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
  /** `at`: when the agent reported it (unknown for old rows: then it counts as before any assignment). */
  remoteConfig?: { status: string; hash: string; errorMessage?: string; at?: Date };
  /**
   * Whether the agent's effective config contains its assigned one (the drift view's semantic verdict,
   * without the reported-hash rule, which is judged here with the report's time); counted by the
   * effective-mismatch gate.
   */
  inDrift?: boolean | 'unknown';
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
  /**
   * Only statuses reported after the target was assigned count (a rollback: whatever the agents
   * reported before, each must report APPLIED for the version after the rollback assigned it).
   */
  freshOnly?: boolean;
}

const OPEN: ReadonlySet<TargetState> = new Set(['Pending', 'Applying']);

/**
 * The target after an observation, or undefined when nothing changed. A target only moves forward
 * (Pending → Applying → Applied | Failed), and only once the rollout assigned it its version: a status
 * before that is about something else (a Supervisor that restored its last good config reports the
 * previous version's hash, which a rollback must not take for its own answer). Statuses for another
 * hash than the rollout's never count as an answer; an Applied agent that reports another hash (or
 * drifts) is counted by the effective-mismatch gate. A disconnect is recorded once, after the push;
 * the agent "recovers" when it is back with the version applied.
 */
export function observeTarget(t: TargetSnapshot, o: AgentObservation, expected: ExpectedConfig, now: Date): TargetSnapshot | undefined {
  if (t.state === 'Skipped') return undefined;
  const next: TargetSnapshot = { ...t };
  let applied = false;
  const rc = o.remoteConfig;
  const counts = rc !== undefined && t.assigned && (!expected.freshOnly || (rc.at !== undefined && t.assignedAt !== null && rc.at.getTime() >= t.assignedAt.getTime()));
  if (rc && counts && rc.hash === expected.configHash) {
    const { status } = rc;
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
      next.reason = rc.errorMessage || 'the agent reported FAILED without an error message';
      next.pushedAt = t.pushedAt ?? now;
    } else if (status === 'APPLYING' && t.state === 'Pending') {
      next.state = 'Applying';
      next.reason = null;
      next.pushedAt = t.pushedAt ?? now;
    }
  } else if (rc && counts && rc.hash && rc.status === 'APPLIED' && rc.at && t.assignedAt && rc.at.getTime() >= t.assignedAt.getTime()) {
    // it runs something else than the rollout's version, said after the assignment (an inventory row
    // that has not caught up with the agent's answer says nothing new)
    if (t.state === 'Applying') next.reason = `the agent reports running config ${rc.hash.slice(0, 12)}…, not this rollout's version`;
    if (t.state === 'Applied' && (!t.appliedAt || rc.at.getTime() > t.appliedAt.getTime())) next.effectiveMatches = false;
  }
  if (o.healthy !== undefined && o.healthy !== null) next.healthy = o.healthy;
  if (t.assigned && o.inDrift !== undefined) {
    // the effective config against the assignment (the reported hash is judged above, with its time)
    if (o.inDrift === 'unknown') {
      if (next.effectiveMatches !== false || !otherHash(t, o, expected)) next.effectiveMatches = null;
    } else {
      next.effectiveMatches = !o.inDrift && !otherHash(t, o, expected);
      if (next.effectiveMatches) applied = true;
    }
  } else if (o.effectiveHash && o.inDrift === undefined) {
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

/** A target as a step creates it: Pending, not yet assigned, nothing observed. */
export const NEW_TARGET: Readonly<TargetSnapshot> = {
  state: 'Pending',
  assigned: false,
  assignedAt: null,
  reason: null,
  pushedAt: null,
  appliedAt: null,
  disconnectedAt: null,
  recovered: false,
  healthy: null,
  effectiveMatches: null,
};

/**
 * A new target with what the inventory already says of its agent (decision 0434): exactly what
 * `observeTarget` would make of that observation on the first tick, written with the row instead of
 * by a second statement per target.
 */
export function startingTarget(o: AgentObservation, expected: ExpectedConfig, now: Date): TargetSnapshot {
  return observeTarget(NEW_TARGET, o, expected, now) ?? { ...NEW_TARGET };
}

/** The agent said, after it was Applied, that it runs another hash. */
function otherHash(t: TargetSnapshot, o: AgentObservation, expected: ExpectedConfig): boolean {
  const rc = o.remoteConfig;
  return Boolean(rc && rc.status === 'APPLIED' && rc.hash && rc.hash !== expected.configHash && rc.at && t.appliedAt && rc.at.getTime() > t.appliedAt.getTime());
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
