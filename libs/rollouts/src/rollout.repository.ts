import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { Page, PageQuery, paginate, returnedRows } from '@ampora/platform';
import { GateCounts, GateName, GateSettings, TargetState } from './domain/gates';
import { Candidate } from './domain/step-planner';
import { TargetSnapshot } from './domain/target-observation';
import { TargetCounts } from './domain/progress-event';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutTargetEntity } from './entities/rollout-target.entity';

/** A member the planner orders (with what the step start needs to know). */
export interface PlanCandidate extends Candidate {
  capabilities: string;
}

/** Targets by state, of a step or a whole rollout. */
export type StepCounts = TargetCounts;

export const ZERO_COUNTS = (): StepCounts => ({ pending: 0, applying: 0, applied: 0, failed: 0, skipped: 0, disconnectedSincePush: 0, total: 0 });

/** Why a target's push found no session: the agent gets the version when it connects. */
export const NOT_CONNECTED_REASON = 'not connected: the agent gets the version when it connects';

/** Why a target stopped being the rollout's (see skipObsolete). */
export interface ObsoleteReasons {
  leftGroup: string;
  reassigned: string;
}

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

const SNAPSHOT_COLUMNS = 't.state, t.assigned, t.assigned_at, t.reason, t.pushed_at, t.applied_at, t.disconnected_at, t.recovered, t.healthy, t.effective_matches';

function candidate(r: Record<string, any>): PlanCandidate {
  return { id: r.id, hostname: r.display_name ?? '', lastSeenAt: r.last_seen_at ? new Date(r.last_seen_at) : null, capabilities: String(r.capabilities ?? '0') };
}

function snapshot(r: Record<string, any>): TargetSnapshot {
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

/** Persistence of rollouts and their targets. Set-based SQL: a step can hold tens of thousands of agents. */
@Injectable()
export class RolloutRepository {
  constructor(
    @InjectRepository(RolloutEntity) private readonly rollouts: Repository<RolloutEntity>,
    private readonly dataSource: DataSource,
  ) {}

  private m(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  insert(manager: EntityManager, values: Partial<RolloutEntity>): Promise<RolloutEntity> {
    const repo = manager.getRepository(RolloutEntity);
    return repo.save(repo.create(values));
  }

  save(manager: EntityManager, rollout: RolloutEntity): Promise<RolloutEntity> {
    rollout.updatedAt = new Date();
    return manager.getRepository(RolloutEntity).save(rollout);
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<RolloutEntity | null> {
    return this.m(manager).getRepository(RolloutEntity).findOne({ where: { tenantId, id } });
  }

  findById(id: string, manager?: EntityManager): Promise<RolloutEntity | null> {
    return this.m(manager).getRepository(RolloutEntity).findOne({ where: { id } });
  }

  /** The rollout, locked against every other transition until the transaction ends. */
  lock(manager: EntityManager, id: string, mode: 'update' | 'share' = 'update'): Promise<RolloutEntity | null> {
    return manager.getRepository(RolloutEntity).findOne({ where: { id }, lock: { mode: mode === 'update' ? 'pessimistic_write' : 'pessimistic_read' } });
  }

  list(tenantId: string, filter: { state?: string }, page: PageQuery): Promise<Page<RolloutEntity>> {
    const qb = this.rollouts.createQueryBuilder('r').where('r.tenantId = :tenantId', { tenantId });
    if (filter.state) qb.andWhere('r.state = :state', { state: filter.state });
    return paginate(qb, { alias: 'r', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  /** An active rollout (any kind) on the group, if there is one. */
  async activeOnGroup(manager: EntityManager, groupId: string): Promise<string | null> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM rollouts WHERE group_id = $1 AND state IN ('Pending', 'InProgress', 'Paused') LIMIT 1`, [groupId]);
    return rows[0]?.id ?? null;
  }

  /** Active rollouts (for the worker's start-up sweep). */
  async activeIds(): Promise<Array<{ id: string; tenantId: string }>> {
    const rows: Array<{ id: string; tenant_id: string }> = await this.dataSource.query(`SELECT id, tenant_id FROM rollouts WHERE state IN ('InProgress', 'Paused')`);
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
  }

  // ----- the engine's lease -----

  async acquireLease(id: string, owner: string, seconds: number): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(
        `UPDATE rollouts SET engine_owner = $2, engine_lease_until = now() + make_interval(secs => $3)
         WHERE id = $1 AND state = 'InProgress' AND (engine_owner IS NULL OR engine_owner = $2 OR engine_lease_until < now())
         RETURNING id`,
        [id, owner, seconds],
      ),
    );
    return rows.length > 0;
  }

  async releaseLease(id: string, owner: string): Promise<void> {
    await this.dataSource.query(`UPDATE rollouts SET engine_owner = NULL, engine_lease_until = NULL WHERE id = $1 AND engine_owner = $2`, [id, owner]);
  }

  // ----- planning -----

  /** The group's live members, as the planner needs them. */
  async members(tenantId: string, groupId: string, manager?: EntityManager): Promise<PlanCandidate[]> {
    const rows: Array<Record<string, any>> = await this.m(manager).query(
      `SELECT id, display_name, last_seen_at, capabilities FROM agents WHERE tenant_id = $1 AND group_id = $2`,
      [tenantId, groupId],
    );
    return rows.map(candidate);
  }

  async memberCount(tenantId: string, groupId: string): Promise<number> {
    return (await this.memberCounts(tenantId, [groupId])).get(groupId) ?? 0;
  }

  /** How many agents each group holds now, in one statement (an empty group is left out). */
  async memberCounts(tenantId: string, groupIds: string[]): Promise<Map<string, number>> {
    if (groupIds.length === 0) return new Map();
    const rows: Array<{ group_id: string; n: string }> = await this.dataSource.query(
      `SELECT group_id, count(*) AS n FROM agents WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) GROUP BY group_id`,
      [tenantId, [...new Set(groupIds)]],
    );
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  }

  /** Agents of a fixed cohort that still exist, in the cohort's order. */
  async cohort(tenantId: string, ids: string[], manager?: EntityManager): Promise<PlanCandidate[]> {
    if (ids.length === 0) return [];
    const rows: Array<Record<string, any>> = await this.m(manager).query(`SELECT id, display_name, last_seen_at, capabilities FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    return ids.flatMap((id) => {
      const r = byId.get(id);
      return r ? [candidate(r)] : [];
    });
  }

  async coveredAgents(manager: EntityManager, rolloutId: string): Promise<Set<string>> {
    const rows: Array<{ agent_id: string }> = await manager.query(`SELECT agent_id FROM rollout_targets WHERE rollout_id = $1`, [rolloutId]);
    return new Set(rows.map((r) => r.agent_id));
  }

  async nextPosition(manager: EntityManager, rolloutId: string): Promise<number> {
    const rows: Array<{ n: number | null }> = await manager.query(`SELECT max(position) AS n FROM rollout_targets WHERE rollout_id = $1`, [rolloutId]);
    return rows[0]?.n === null || rows[0]?.n === undefined ? 0 : Number(rows[0].n) + 1;
  }

  async insertTargets(manager: EntityManager, rows: Array<{ rolloutId: string; agentId: string; tenantId: string; step: number; position: number; state: TargetState; reason: string | null }>): Promise<void> {
    for (let i = 0; i < rows.length; i += 5000) {
      const chunk = rows.slice(i, i + 5000);
      await manager.query(
        `INSERT INTO rollout_targets (rollout_id, agent_id, tenant_id, step, position, state, reason)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[], $5::int[], $6::varchar[], $7::text[])`,
        [chunk.map((r) => r.rolloutId), chunk.map((r) => r.agentId), chunk.map((r) => r.tenantId), chunk.map((r) => r.step), chunk.map((r) => r.position), chunk.map((r) => r.state), chunk.map((r) => r.reason)],
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

  /**
   * Locks `agentIds` and returns those still in `groupId`; the others' open targets become Skipped with
   * `reason` (they left the rollout's group, or no longer exist). Run before assigning them the version.
   */
  async lockStaying(manager: EntityManager, tenantId: string, rolloutId: string, groupId: string, agentIds: string[], reason: string): Promise<string[]> {
    const rows: Array<{ id: string; group_id: string | null }> = await manager.query(`SELECT id, group_id FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`, [tenantId, agentIds]);
    const staying = new Set(rows.filter((r) => r.group_id === groupId).map((r) => r.id));
    await this.skipTargets(rolloutId, agentIds.filter((id) => !staying.has(id)).map((agentId) => ({ agentId, reason })), manager);
    return agentIds.filter((id) => staying.has(id));
  }

  /**
   * Open targets of a step whose agent is no longer the rollout's: it left `groupId` (reason
   * `reasons.leftGroup`), or it was assigned this rollout's version and runs something else now — an
   * operator assigned it directly, cleared the assignment, or it moved out and back (`reasons.reassigned`).
   * They become Skipped; returns how many.
   */
  async skipObsolete(rolloutId: string, step: number, groupId: string, configHash: string, reasons: ObsoleteReasons): Promise<number> {
    const rows = returnedRows(
      await this.dataSource.query(
        `UPDATE rollout_targets t SET state = 'Skipped', reason = CASE WHEN a.group_id IS DISTINCT FROM $3::uuid THEN $5 ELSE $6 END, updated_at = now()
         FROM agents a
         WHERE a.id = t.agent_id AND t.rollout_id = $1 AND t.step = $2 AND t.state IN ('Pending', 'Applying')
           AND (a.group_id IS DISTINCT FROM $3::uuid
                OR (t.assigned AND (a.assignment_source IS DISTINCT FROM 'rollout' OR a.assigned_config_hash IS DISTINCT FROM $4::char(64))))
         RETURNING t.agent_id`,
        [rolloutId, step, groupId, configHash, reasons.leftGroup, reasons.reassigned],
      ),
    );
    return rows.length;
  }

  /**
   * Of `agentIds`, those that still run this rollout's assignment (in `groupId`, source `rollout`, the
   * version's hash), in order; the open targets of the others become Skipped. Read right before a push,
   * so that a move or an operator's assignment since the chunk was assigned is not pushed over.
   */
  async stillAssigned(rolloutId: string, tenantId: string, groupId: string, configHash: string, agentIds: string[], reasons: ObsoleteReasons): Promise<string[]> {
    if (agentIds.length === 0) return [];
    const rows: Array<{ id: string; group_id: string | null; assignment_source: string | null; hash: string | null }> = await this.dataSource.query(
      `SELECT id, group_id, assignment_source, assigned_config_hash AS hash FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, agentIds],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const keep: string[] = [];
    const gone: Array<{ agentId: string; reason: string }> = [];
    for (const id of agentIds) {
      const a = byId.get(id);
      if (!a || a.group_id !== groupId) gone.push({ agentId: id, reason: reasons.leftGroup });
      else if (a.assignment_source !== 'rollout' || a.hash?.trim() !== configHash) gone.push({ agentId: id, reason: reasons.reassigned });
      else keep.push(id);
    }
    await this.skipTargets(rolloutId, gone);
    return keep;
  }

  /** The version was assigned to these agents at `at` (statuses of a rollback count from then on). */
  async markAssigned(manager: EntityManager, rolloutId: string, agentIds: string[], at: Date = new Date()): Promise<void> {
    await manager.query(`UPDATE rollout_targets SET assigned = true, assigned_at = $3, updated_at = now() WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[])`, [rolloutId, agentIds, at.toISOString()]);
  }

  /** Agents the rollout assigned its version to, in order (what a rollback reaches). */
  async touched(manager: EntityManager, rolloutId: string): Promise<string[]> {
    const rows: Array<{ agent_id: string }> = await manager.query(`SELECT agent_id FROM rollout_targets WHERE rollout_id = $1 AND assigned ORDER BY position`, [rolloutId]);
    return rows.map((r) => r.agent_id);
  }

  /** Records push outcomes: pushed (now Applying, unless an answer already arrived), waiting, or skipped. */
  async recordPushes(rolloutId: string, pushed: string[], waiting: string[], skipped: Array<{ agentId: string; reason: string }>): Promise<void> {
    if (pushed.length) {
      await this.dataSource.query(
        `UPDATE rollout_targets SET state = CASE WHEN state = 'Pending' THEN 'Applying' ELSE state END, reason = CASE WHEN state = 'Pending' THEN NULL ELSE reason END,
           pushed_at = COALESCE(pushed_at, now()), updated_at = now()
         WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[])`,
        [rolloutId, pushed],
      );
    }
    if (waiting.length) {
      await this.dataSource.query(
        `UPDATE rollout_targets SET reason = $3, updated_at = now() WHERE rollout_id = $1 AND agent_id = ANY($2::uuid[]) AND state = 'Pending'`,
        [rolloutId, waiting, NOT_CONNECTED_REASON],
      );
    }
    await this.skipTargets(rolloutId, skipped);
  }

  /** Open (Pending, Applying) targets of these agents become Skipped, each with its reason. */
  private async skipTargets(rolloutId: string, skipped: Array<{ agentId: string; reason: string }>, manager?: EntityManager): Promise<void> {
    if (skipped.length === 0) return;
    await this.m(manager).query(
      `UPDATE rollout_targets SET state = 'Skipped', reason = v.reason, updated_at = now() FROM unnest($2::uuid[], $3::text[]) AS v(agent_id, reason)
       WHERE rollout_targets.rollout_id = $1 AND rollout_targets.agent_id = v.agent_id AND rollout_targets.state IN ('Pending', 'Applying')`,
      [rolloutId, skipped.map((s) => s.agentId), skipped.map((s) => s.reason)],
    );
  }

  // ----- observing agents -----

  /** Targets of the current step of an active rollout, for these agents (live events). */
  async openTargetsOf(agentIds: string[]): Promise<Array<TargetWithAgent & { configHash: string; contentHash: string; freshOnly: boolean }>> {
    if (agentIds.length === 0) return [];
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT t.rollout_id, t.agent_id, t.tenant_id, t.step, ${SNAPSHOT_COLUMNS}, v.config_hash, v.content_hash, r.kind
       FROM rollout_targets t
       JOIN rollouts r ON r.id = t.rollout_id AND r.state IN ('InProgress', 'Paused') AND t.step = r.current_step
       JOIN configuration_versions v ON v.id = r.version_id
       WHERE t.agent_id = ANY($1::uuid[]) AND t.state <> 'Skipped'`,
      [agentIds],
    );
    return rows.map((r) => ({ rolloutId: r.rollout_id, agentId: r.agent_id, tenantId: r.tenant_id, step: r.step, configHash: String(r.config_hash).trim(), contentHash: String(r.content_hash).trim(), freshOnly: r.kind === 'Rollback', ...snapshot(r) }));
  }

  /** The step's targets with their agents' recorded state (the tick's backstop for missed events). */
  async stepWithAgents(rolloutId: string, step: number): Promise<Array<TargetWithAgent & { agent: Record<string, any> }>> {
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT t.rollout_id, t.agent_id, t.tenant_id, t.step, ${SNAPSHOT_COLUMNS},
              a.remote_config_status AS a_status, a.remote_config_hash AS a_hash, a.remote_config_error AS a_error, a.healthy AS a_healthy,
              a.effective_config_hash AS a_effective_hash, a.connected AS a_connected, a.disconnected_at AS a_disconnected_at, a.remote_config_at AS a_status_at,
              a.assigned_config_hash AS a_assigned_hash, a.assigned_content_hash AS a_assigned_content_hash
       FROM rollout_targets t JOIN agents a ON a.id = t.agent_id
       WHERE t.rollout_id = $1 AND t.step = $2 AND t.state <> 'Skipped'`,
      [rolloutId, step],
    );
    return rows.map((r) => ({
      rolloutId: r.rollout_id,
      agentId: r.agent_id,
      tenantId: r.tenant_id,
      step: r.step,
      ...snapshot(r),
      agent: { status: r.a_status, hash: r.a_hash, error: r.a_error, statusAt: r.a_status_at ? new Date(r.a_status_at) : null, assignedHash: r.a_assigned_hash, assignedContentHash: r.a_assigned_content_hash, healthy: r.a_healthy, effectiveHash: r.a_effective_hash ? String(r.a_effective_hash).trim() : null, connected: r.a_connected, disconnectedAt: r.a_disconnected_at ? new Date(r.a_disconnected_at) : null },
    }));
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
   * Targets of the step that ran out of time: pushed but never Applied/Failed → Failed; never pushed
   * (the agent was offline) → Skipped. Returns how many of each, with the failed agents.
   */
  async expire(rolloutId: string, step: number, stepStartedAt: Date, timeoutSeconds: number): Promise<{ failed: number; skipped: number }> {
    const failed = await this.dataSource.query(
      `UPDATE rollout_targets SET state = 'Failed', reason = $4, updated_at = now()
       WHERE rollout_id = $1 AND step = $2 AND state IN ('Pending', 'Applying') AND pushed_at IS NOT NULL AND pushed_at < now() - make_interval(secs => $3)
       RETURNING agent_id`,
      [rolloutId, step, timeoutSeconds, `no APPLIED status within ${timeoutSeconds} s of the push`],
    );
    let skipped: unknown[] = [];
    if (Date.now() - stepStartedAt.getTime() > timeoutSeconds * 1000) {
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

  // ----- gates -----

  /** Each gate's numerator as a condition (the timeouts are validated whole seconds, inlined as numbers). */
  private gateFilters(g: GateSettings): Record<GateName, string> {
    const secs = (n: number) => `make_interval(secs => ${Math.trunc(Number(n))})`;
    return {
      'apply-failed-ratio': `state = 'Failed'`,
      'unhealthy-ratio': `healthy = false AND pushed_at <= now() - ${secs(g.unhealthyTimeoutSeconds)}`,
      'effective-mismatch-ratio': `state = 'Applied' AND effective_matches = false AND pushed_at <= now() - ${secs(g.effectiveMismatchTimeoutSeconds)}`,
      'disconnect-ratio': `disconnected_at IS NOT NULL AND NOT recovered AND disconnected_at <= pushed_at + ${secs(g.disconnectWindowSeconds)} AND disconnected_at <= now() - ${secs(g.disconnectGraceSeconds)}`,
    };
  }

  /** The gates' numerators and denominator over the step's pushed agents (the domain's rules, in SQL). */
  async gateCounts(rolloutId: string, step: number, g: GateSettings): Promise<GateCounts> {
    const f = this.gateFilters(g);
    const rows: Array<Record<string, string>> = await this.dataSource.query(
      `SELECT count(*) AS pushed,
              count(*) FILTER (WHERE ${f['apply-failed-ratio']}) AS failed,
              count(*) FILTER (WHERE ${f['unhealthy-ratio']}) AS unhealthy,
              count(*) FILTER (WHERE ${f['effective-mismatch-ratio']}) AS mismatched,
              count(*) FILTER (WHERE ${f['disconnect-ratio']}) AS disconnected
       FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND pushed_at IS NOT NULL AND state <> 'Skipped'`,
      [rolloutId, step],
    );
    const r = rows[0] ?? {};
    return { pushed: Number(r.pushed ?? 0), failed: Number(r.failed ?? 0), unhealthy: Number(r.unhealthy ?? 0), mismatched: Number(r.mismatched ?? 0), disconnected: Number(r.disconnected ?? 0) };
  }

  /** The agents a gate counts (the first 100). */
  async gateAgents(rolloutId: string, step: number, gate: GateName, g: GateSettings): Promise<string[]> {
    const rows: Array<{ agent_id: string }> = await this.dataSource.query(
      `SELECT agent_id FROM rollout_targets WHERE rollout_id = $1 AND step = $2 AND pushed_at IS NOT NULL AND state <> 'Skipped' AND ${this.gateFilters(g)[gate]} ORDER BY position LIMIT 100`,
      [rolloutId, step],
    );
    return rows.map((r) => r.agent_id);
  }

  // ----- progress -----

  /** Counts per step (and in total). */
  async counts(rolloutId: string, manager?: EntityManager): Promise<RolloutCounts> {
    return (await this.countsOf([rolloutId], manager)).get(rolloutId) ?? { total: ZERO_COUNTS(), steps: new Map() };
  }

  /** Target counts of several rollouts in one statement (a rollout without targets is left out). */
  async countsOf(rolloutIds: string[], manager?: EntityManager): Promise<Map<string, RolloutCounts>> {
    const out = new Map<string, RolloutCounts>();
    if (rolloutIds.length === 0) return out;
    const rows: Array<{ rollout_id: string; step: number; state: TargetState; n: string; d: string }> = await this.m(manager).query(
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

  async targets(rolloutId: string, filter: { step?: number; state?: string }, page: { after?: number; limit: number }): Promise<Array<RolloutTargetEntity & { displayName: string }>> {
    const params: unknown[] = [rolloutId, page.after ?? -1, page.limit];
    let where = 't.rollout_id = $1 AND t.position > $2';
    if (filter.step !== undefined) where += ` AND t.step = $${params.push(filter.step)}`;
    if (filter.state) where += ` AND t.state = $${params.push(filter.state)}`;
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT t.*, a.display_name FROM rollout_targets t LEFT JOIN agents a ON a.id = t.agent_id WHERE ${where} ORDER BY t.position LIMIT $3`,
      params,
    );
    return rows.map((r) => ({
      rolloutId: r.rollout_id,
      agentId: r.agent_id,
      tenantId: r.tenant_id,
      step: r.step,
      position: r.position,
      updatedAt: new Date(r.updated_at),
      displayName: r.display_name ?? '',
      ...snapshot(r),
    }));
  }
}
