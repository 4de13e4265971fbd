import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { returnedRows } from '@ampora/platform';
import { NewTarget, SkippedTarget, TargetChange } from './target-rows';

/** Why a target's push found no session: the agent gets the version when it connects. */
export const NOT_CONNECTED_REASON = 'not connected: the agent gets the version when it connects';

/**
 * Writes to a rollout's targets (the `rollout_targets` table). Set-based SQL: a step can hold tens of
 * thousands of agents. Times that rules read later (pushed, assigned, applied) come from the caller's
 * clock; `updated_at` is bookkeeping and takes the database's.
 */
@Injectable()
export class RolloutTargetRepository {
  constructor(private readonly dataSource: DataSource) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  async coveredAgents(manager: EntityManager, rolloutId: string): Promise<Set<string>> {
    const rows: Array<{ agent_id: string }> = await manager.query(`SELECT agent_id FROM rollout_targets WHERE rollout_id = $1`, [rolloutId]);
    return new Set(rows.map((r) => r.agent_id));
  }

  async nextPosition(manager: EntityManager, rolloutId: string): Promise<number> {
    const rows: Array<{ n: number | null }> = await manager.query(`SELECT max(position) AS n FROM rollout_targets WHERE rollout_id = $1`, [rolloutId]);
    return rows[0]?.n === null || rows[0]?.n === undefined ? 0 : Number(rows[0].n) + 1;
  }

  async insertTargets(manager: EntityManager, rows: NewTarget[]): Promise<void> {
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      await manager.query(
        `INSERT INTO rollout_targets (rollout_id, agent_id, tenant_id, step, position, state, reason, healthy, effective_matches)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::varchar[], $7::text[], $8::boolean[], $9::boolean[])`,
        [
          chunk.map((r) => r.rolloutId),
          chunk.map((r) => r.agentId),
          chunk.map((r) => r.tenantId),
          chunk.map((r) => r.step),
          chunk.map((r) => r.position),
          chunk.map((r) => r.state),
          chunk.map((r) => r.reason),
          chunk.map((r) => r.healthy),
          chunk.map((r) => r.effectiveMatches),
        ],
      );
    }
  }

  /**
   * Targets of a step whose push has no recorded outcome yet, in order: never assigned, or assigned by
   * a worker that stopped before it pushed (pushing again is harmless). Agents found without a session
   * carry a reason and wait for their connection instead.
   */
  async unpushed(rolloutId: string, step: number): Promise<string[]> {
    const rows: Array<{ agent_id: string }> = await this.dataSource.query(
      `SELECT agent_id FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND state = 'Pending' AND pushed_at IS NULL AND reason IS NULL ORDER BY position`,
      [rolloutId, step],
    );
    return rows.map((r) => r.agent_id);
  }

  /** The version was assigned to these agents at `at` (statuses of a rollback count from then on). */
  async markAssigned(manager: EntityManager, rolloutId: string, agentIds: string[], at: Date): Promise<void> {
    await manager.query(`UPDATE rollout_targets SET assigned = true, assigned_at = $3, updated_at = now() WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[])`, [rolloutId, agentIds, at.toISOString()]);
  }

  /**
   * A package rollout assigned its version to these agents at `at`, each with the version of the
   * package it had before (null: none), which an abort or a rollback puts back (decision 0375).
   */
  async markPackageAssigned(manager: EntityManager, rolloutId: string, previous: Map<string, string | null>, at: Date): Promise<void> {
    if (previous.size === 0) return;
    await manager.query(
      `UPDATE rollout_targets t SET assigned = true, assigned_at = $2, previous_package_version_id = v.previous, updated_at = now()
       FROM unnest($3::uuid[], $4::uuid[]) AS v(agent_id, previous)
       WHERE t.rollout_id = $1 AND t.agent_id = v.agent_id`,
      [rolloutId, at.toISOString(), [...previous.keys()], [...previous.values()]],
    );
  }

  /** Agents a package rollout assigned its version to, with what each had before, in order. */
  async touchedPackages(manager: EntityManager, rolloutId: string): Promise<Array<{ agentId: string; previousVersionId: string | null }>> {
    const rows: Array<{ agent_id: string; previous_package_version_id: string | null }> = await manager.query(
      `SELECT agent_id, previous_package_version_id FROM rollout_targets WHERE rollout_id = $1 AND assigned ORDER BY position`,
      [rolloutId],
    );
    return rows.map((r) => ({ agentId: r.agent_id, previousVersionId: r.previous_package_version_id }));
  }

  /** Agents the rollout assigned its version to, in order (what a rollback reaches). */
  async touched(manager: EntityManager, rolloutId: string): Promise<string[]> {
    const rows: Array<{ agent_id: string }> = await manager.query(`SELECT agent_id FROM rollout_targets WHERE rollout_id = $1 AND assigned ORDER BY position`, [rolloutId]);
    return rows.map((r) => r.agent_id);
  }

  /** Records push outcomes at `at`: pushed (now Applying, unless an answer already arrived), waiting, or skipped. */
  async recordPushes(rolloutId: string, pushed: string[], waiting: string[], skipped: SkippedTarget[], at: Date): Promise<void> {
    if (pushed.length) {
      await this.dataSource.query(
        `UPDATE rollout_targets SET state = CASE WHEN state = 'Pending' THEN 'Applying' ELSE state END, reason = CASE WHEN state = 'Pending' THEN NULL ELSE reason END,
           pushed_at = COALESCE(pushed_at, $3::timestamptz), updated_at = now()
         WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[])`,
        [rolloutId, pushed, at.toISOString()],
      );
    }
    if (waiting.length) {
      await this.dataSource.query(
        `UPDATE rollout_targets SET reason = $3, updated_at = now() WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[]) AND state = 'Pending'`,
        [rolloutId, waiting, NOT_CONNECTED_REASON],
      );
    }
    await this.skip(rolloutId, skipped);
  }

  /** Open (Pending, Applying) targets of these agents become Skipped, each with its reason. */
  async skip(rolloutId: string, skipped: SkippedTarget[], manager?: EntityManager): Promise<number> {
    if (skipped.length === 0) return 0;
    const rows = returnedRows(
      await this.manager(manager).query(
        `UPDATE rollout_targets SET state = 'Skipped', reason = v.reason, denied_by_policy_id = v.policy_id, denied_by_policy_name = v.policy_name, updated_at = now()
         FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS v(agent_id, reason, policy_id, policy_name)
         WHERE rollout_targets.rollout_id = $1 AND rollout_targets.agent_id = v.agent_id AND rollout_targets.state IN ('Pending', 'Applying')
         RETURNING rollout_targets.agent_id`,
        [rolloutId, skipped.map((s) => s.agentId), skipped.map((s) => s.reason), skipped.map((s) => s.policy?.id ?? null), skipped.map((s) => s.policy?.name ?? null)],
      ),
    );
    return rows.length;
  }

  /**
   * Writes changed targets, each only if its state is still the one the change was computed from, or
   * still open (Pending and Applying are the same to an answer: the push may have been recorded
   * meanwhile). Another worker's answer for the same agent finds it closed and writes nothing, so each
   * outcome is counted once. Returns the changes that were written.
   */
  async writeChanges(changes: TargetChange[]): Promise<TargetChange[]> {
    const written: TargetChange[] = [];
    for (let i = 0; i < changes.length; i += 2000) {
      const chunk = changes.slice(i, i + 2000);
      const iso = (d: Date | null) => (d ? d.toISOString() : null);
      const rows = returnedRows<{ rollout_id: string; agent_id: string }>(
        await this.dataSource.query(
          `UPDATE rollout_targets AS t SET
             state = CASE WHEN t.state = 'Applying' AND v.state = 'Pending' THEN t.state ELSE v.state END,
             reason = CASE WHEN t.state = 'Applying' AND v.state = 'Pending' THEN t.reason ELSE v.reason END,
             pushed_at = LEAST(t.pushed_at, v.pushed_at), applied_at = v.applied_at, disconnected_at = v.disconnected_at,
             recovered = v.recovered, healthy = v.healthy, effective_matches = v.effective_matches, updated_at = now()
           FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::varchar[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::boolean[], $10::boolean[], $11::boolean[])
             AS v(rollout_id, agent_id, before, state, reason, pushed_at, applied_at, disconnected_at, recovered, healthy, effective_matches)
           WHERE t.rollout_id = v.rollout_id AND t.agent_id = v.agent_id
             AND (t.state = v.before OR (v.before IN ('Pending', 'Applying') AND t.state IN ('Pending', 'Applying')))
           RETURNING t.rollout_id, t.agent_id`,
          [
            chunk.map((c) => c.rolloutId),
            chunk.map((c) => c.agentId),
            chunk.map((c) => c.before),
            chunk.map((c) => c.after.state),
            chunk.map((c) => c.after.reason),
            chunk.map((c) => iso(c.after.pushedAt)),
            chunk.map((c) => iso(c.after.appliedAt)),
            chunk.map((c) => iso(c.after.disconnectedAt)),
            chunk.map((c) => c.after.recovered),
            chunk.map((c) => c.after.healthy),
            chunk.map((c) => c.after.effectiveMatches),
          ],
        ),
      );
      const done = new Set(rows.map((r) => `${r.rollout_id}/${r.agent_id}`));
      for (const c of chunk) if (done.has(`${c.rolloutId}/${c.agentId}`)) written.push(c);
    }
    return written;
  }

  /**
   * Targets of the step that ran out of time by `now`: pushed but never Applied/Failed → Failed; never
   * pushed (the agent was offline) once the step itself is older than the timeout → Skipped.
   */
  async expire(rolloutId: string, step: number, stepStartedAt: Date, timeoutSeconds: number, now: Date): Promise<{ failed: number; skipped: number }> {
    const failed = await this.dataSource.query(
      `UPDATE rollout_targets SET state = 'Failed', reason = $4, updated_at = now()
       WHERE rollout_id = $1 AND step = $2 AND state IN ('Pending', 'Applying') AND pushed_at IS NOT NULL AND pushed_at < $5::timestamptz - make_interval(secs => $3)
       RETURNING agent_id`,
      [rolloutId, step, timeoutSeconds, `no APPLIED status within ${timeoutSeconds} s of the push`, now.toISOString()],
    );
    let skipped: unknown[] = [];
    if (now.getTime() - stepStartedAt.getTime() > timeoutSeconds * 1000) {
      skipped = await this.dataSource.query(
        `UPDATE rollout_targets SET state = 'Skipped', reason = $3, updated_at = now()
         WHERE rollout_id = $1 AND step = $2 AND state = 'Pending' AND pushed_at IS NULL AND assigned
         RETURNING agent_id`,
        [rolloutId, step, `not connected during the step (${timeoutSeconds} s); it gets the version when it connects`],
      );
    }
    return { failed: returnedRows(failed).length, skipped: returnedRows(skipped).length };
  }

  /** Targets of the step still Pending or Applying. */
  async openCount(rolloutId: string, step: number): Promise<number> {
    const rows: Array<{ n: string }> = await this.dataSource.query(`SELECT count(*) AS n FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND state IN ('Pending', 'Applying')`, [rolloutId, step]);
    return Number(rows[0]?.n ?? 0);
  }
}
