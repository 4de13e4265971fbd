import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { TargetObservation, TargetState } from '../domain/gates';
import { RolloutCounts, SNAPSHOT_COLUMNS, snapshot, StepCounts, TargetRow, TargetWithAgent, targetWithAgent, ZERO_COUNTS } from './target-rows';

/** An open target of a running step, with what its rollout expects of the agent. */
export interface RunningTarget extends TargetWithAgent {
  versionId: string;
  /** A rollback: only statuses given after the assignment count. */
  freshOnly: boolean;
}

/**
 * Reads of rollouts' targets (`rollout_targets`, with `rollouts` for the running step): what the
 * engine judges and what the API shows. SQL here only selects and counts; the rules that decide
 * (gates, observations, membership) are in domain/ and run on what these return.
 */
@Injectable()
export class RolloutTargetQueries {
  constructor(private readonly dataSource: DataSource) {}

  /** Targets of the current step of an active rollout, for these agents (live events). */
  async openTargetsOf(agentIds: string[]): Promise<RunningTarget[]> {
    if (agentIds.length === 0) return [];
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT t.rollout_id, t.agent_id, t.tenant_id, t.step, ${SNAPSHOT_COLUMNS}, r.version_id, r.kind
       FROM rollout_targets t
       JOIN rollouts r ON r.id = t.rollout_id AND r.state IN ('InProgress', 'Paused') AND t.step = r.current_step
       WHERE t.agent_id = ANY($1::uuid[]) AND t.state <> 'Skipped'`,
      [agentIds],
    );
    return rows.map((r) => ({ ...targetWithAgent(r), versionId: r.version_id, freshOnly: r.kind === 'Rollback' }));
  }

  /** Active package rollouts (decision 0375) whose current step has an open target for one of these agents. */
  async packageRolloutsOf(agentIds: string[]): Promise<Array<{ rolloutId: string; tenantId: string }>> {
    if (agentIds.length === 0) return [];
    const rows: Array<{ id: string; tenant_id: string }> = await this.dataSource.query(
      `SELECT DISTINCT r.id, r.tenant_id FROM rollout_targets t
       JOIN rollouts r ON r.id = t.rollout_id AND r.state = 'InProgress' AND r.subject = 'package' AND t.step = r.current_step
       WHERE t.agent_id = ANY($1::uuid[]) AND t.state IN ('Pending', 'Applying')`,
      [agentIds],
    );
    return rows.map((r) => ({ rolloutId: r.id, tenantId: r.tenant_id }));
  }

  /** The step's targets that are not Skipped (the tick's backstop for missed events). */
  async stepTargets(rolloutId: string, step: number): Promise<TargetWithAgent[]> {
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT t.rollout_id, t.agent_id, t.tenant_id, t.step, ${SNAPSHOT_COLUMNS} FROM rollout_targets t WHERE t.rollout_id = $1 AND t.step = $2 AND t.state <> 'Skipped'`,
      [rolloutId, step],
    );
    return rows.map(targetWithAgent);
  }

  /**
   * What the gates need of a step: how many of its targets were pushed (not Skipped), and, in the
   * step's order, the pushed ones with a sign of trouble (domain/gates `mayTripGate`, written as SQL
   * only to narrow the read). The verdict is `evaluateStepGates`'.
   */
  async gateObservations(rolloutId: string, step: number): Promise<{ pushed: number; troubled: TargetObservation[] }> {
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `WITH pushed AS (
         SELECT agent_id, position, state, pushed_at, disconnected_at, recovered, healthy, effective_matches
         FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND pushed_at IS NOT NULL AND state <> 'Skipped')
       SELECT c.n, t.* FROM (SELECT count(*) AS n FROM pushed) c
       LEFT JOIN LATERAL (
         SELECT * FROM pushed
         WHERE state = 'Failed' OR healthy = false OR (state = 'Applied' AND effective_matches = false) OR (disconnected_at IS NOT NULL AND NOT recovered)
         ORDER BY position) t ON true`,
      [rolloutId, step],
    );
    const troubled = rows
      .filter((r) => r.agent_id)
      .map(
        (r): TargetObservation => ({
          agentId: r.agent_id,
          state: r.state,
          pushedAt: new Date(r.pushed_at).getTime(),
          disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at).getTime() : undefined,
          recovered: Boolean(r.recovered),
          effectiveMatches: r.effective_matches ?? undefined,
          healthy: r.healthy ?? undefined,
        }),
      );
    return { pushed: Number(rows[0]?.n ?? 0), troubled };
  }

  /** The step's pushed targets (not Skipped) and when each was pushed: the analysis gates' agents. */
  async pushedTargets(rolloutId: string, step: number): Promise<Array<{ agentId: string; pushedAt: number }>> {
    const rows: Array<{ agent_id: string; pushed_at: Date }> = await this.dataSource.query(
      `SELECT agent_id, pushed_at FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND pushed_at IS NOT NULL AND state <> 'Skipped'`,
      [rolloutId, step],
    );
    return rows.map((r) => ({ agentId: r.agent_id, pushedAt: new Date(r.pushed_at).getTime() }));
  }

  /** Every agent the rollout has a target for (any step). */
  async coveredAgents(rolloutId: string): Promise<Set<string>> {
    const rows: Array<{ agent_id: string }> = await this.dataSource.query(`SELECT agent_id FROM rollout_targets WHERE rollout_id = $1`, [rolloutId]);
    return new Set(rows.map((r) => r.agent_id));
  }

  /** Counts per step (and in total). */
  async counts(rolloutId: string, manager?: EntityManager): Promise<RolloutCounts> {
    return (await this.countsOf([rolloutId], manager)).get(rolloutId) ?? { total: ZERO_COUNTS(), steps: new Map() };
  }

  /** Target counts of several rollouts in one statement (a rollout without targets is left out). */
  async countsOf(rolloutIds: string[], manager?: EntityManager): Promise<Map<string, RolloutCounts>> {
    const out = new Map<string, RolloutCounts>();
    if (rolloutIds.length === 0) return out;
    const rows: Array<{ rollout_id: string; step: number; state: TargetState; n: string; d: string }> = await (manager ?? this.dataSource.manager).query(
      `SELECT rollout_id, step, state, count(*) AS n, count(*) FILTER (WHERE disconnected_at IS NOT NULL AND NOT recovered) AS d
       FROM rollout_targets WHERE rollout_id = ANY($1::uuid[]) GROUP BY rollout_id, step, state`,
      [rolloutIds],
    );
    const key: Record<TargetState, keyof StepCounts> = { Pending: 'pending', Applying: 'applying', Applied: 'applied', Failed: 'failed', Skipped: 'skipped' };
    for (const r of rows) {
      let counts = out.get(r.rollout_id);
      if (!counts) out.set(r.rollout_id, (counts = { total: ZERO_COUNTS(), steps: new Map() }));
      let s = counts.steps.get(r.step);
      if (!s) counts.steps.set(r.step, (s = ZERO_COUNTS()));
      for (const c of [s, counts.total]) {
        c[key[r.state]] += Number(r.n);
        c.total += Number(r.n);
        c.disconnectedSincePush += Number(r.d);
      }
    }
    return out;
  }

  /** A page of a rollout's targets in order (after `page.after`'s position). */
  async targets(rolloutId: string, filter: { step?: number; state?: string }, page: { after?: number; limit: number }): Promise<TargetRow[]> {
    const params: unknown[] = [rolloutId, page.after ?? -1, page.limit];
    let where = 't.rollout_id = $1 AND t.position > $2';
    if (filter.step !== undefined) where += ` AND t.step = $${params.push(filter.step)}`;
    if (filter.state) where += ` AND t.state = $${params.push(filter.state)}`;
    const rows: Array<Record<string, any>> = await this.dataSource.query(`SELECT t.* FROM rollout_targets t WHERE ${where} ORDER BY t.position LIMIT $3`, params);
    return rows.map((r) => ({ ...targetWithAgent(r), position: r.position, updatedAt: new Date(r.updated_at), ...snapshot(r), deniedByPolicy: r.denied_by_policy_id ? { id: r.denied_by_policy_id, name: r.denied_by_policy_name ?? '' } : null }));
  }
}
