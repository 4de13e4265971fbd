import { TargetState } from '../domain/gates';
import { TargetCounts } from '../domain/progress-event';
import { TargetSnapshot } from '../domain/target-observation';

/** Targets by state, of a step or a whole rollout. */
export type StepCounts = TargetCounts;

export const ZERO_COUNTS = (): StepCounts => ({ pending: 0, applying: 0, applied: 0, failed: 0, skipped: 0, disconnectedSincePush: 0, total: 0 });

/** A rollout's targets counted by state: over all steps, and per step. */
export interface RolloutCounts {
  total: StepCounts;
  steps: Map<number, StepCounts>;
}

/** A target with the keys to write it back. */
export interface TargetChange {
  rolloutId: string;
  agentId: string;
  tenantId: string;
  before: TargetState;
  after: TargetSnapshot;
}

export interface TargetWithAgent extends TargetSnapshot {
  rolloutId: string;
  agentId: string;
  tenantId: string;
  step: number;
}

/** A target as the API lists it. */
export interface TargetRow extends TargetWithAgent {
  position: number;
  updatedAt: Date;
  /** The policy a push-time check denied the agent by (the target is Skipped). */
  deniedByPolicy: { id: string; name: string } | null;
}

/** A target to create when a step starts. */
export interface NewTarget {
  rolloutId: string;
  agentId: string;
  tenantId: string;
  step: number;
  position: number;
  state: TargetState;
  reason: string | null;
  /** What the inventory said of the agent when the step started (decision 0434); null: unknown. */
  healthy: boolean | null;
  effectiveMatches: boolean | null;
}

/** A target to skip, with why. */
export interface SkippedTarget {
  agentId: string;
  reason: string;
  /** When a push-time check denied the push: the policy that said no. */
  policy?: { id: string; name: string };
}

export const SNAPSHOT_COLUMNS = 't.state, t.assigned, t.assigned_at, t.reason, t.pushed_at, t.applied_at, t.disconnected_at, t.recovered, t.healthy, t.effective_matches';

export function snapshot(r: Record<string, any>): TargetSnapshot {
  return {
    state: r.state,
    assigned: Boolean(r.assigned),
    assignedAt: r.assigned_at ? new Date(r.assigned_at) : null,
    reason: r.reason ?? null,
    pushedAt: r.pushed_at ? new Date(r.pushed_at) : null,
    appliedAt: r.applied_at ? new Date(r.applied_at) : null,
    disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at) : null,
    recovered: Boolean(r.recovered),
    healthy: r.healthy ?? null,
    effectiveMatches: r.effective_matches ?? null,
  };
}

export function targetWithAgent(r: Record<string, any>): TargetWithAgent {
  return { rolloutId: r.rollout_id, agentId: r.agent_id, tenantId: r.tenant_id, step: r.step, ...snapshot(r) };
}
