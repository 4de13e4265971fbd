import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { prepared, returnedRows } from '@ampora/platform';

/**
 * Takes the leases of several agents in one statement (decision 0421): the previous rows are locked
 * and read first, in agent order (so their holders are known; the InitPlan reads them all before the
 * first row is written), then every agent is upserted, in agent order. The token is kept when the same
 * instance already holds a live lease, drawn from the sequence otherwise. `updated` with no previous
 * row means a concurrent acquire inserted it meanwhile. $1 agent ids (distinct), $2 instance, $3 TTL s.
 * Prepared once per connection (decision 0444).
 */
export const ACQUIRE_SQL = prepared(`
  WITH prev AS MATERIALIZED (
    SELECT agent_id, instance_id, lease_expires_at > now() AS live FROM agent_session_ownership
    WHERE agent_id = ANY($1::uuid[]) ORDER BY agent_id FOR UPDATE
  )
  INSERT INTO agent_session_ownership AS o (agent_id, instance_id, fencing_token, lease_expires_at, acquired_at, renewed_at)
  SELECT w.agent_id, $2, nextval('agent_session_fencing_seq'), now() + make_interval(secs => $3), now(), now()
  FROM unnest($1::uuid[]) AS w(agent_id)
  WHERE (SELECT count(*) FROM prev) >= 0
  ORDER BY w.agent_id
  ON CONFLICT (agent_id) DO UPDATE SET
    fencing_token = CASE WHEN o.instance_id = EXCLUDED.instance_id AND o.lease_expires_at > now() THEN o.fencing_token ELSE EXCLUDED.fencing_token END,
    acquired_at = CASE WHEN o.instance_id = EXCLUDED.instance_id AND o.lease_expires_at > now() THEN o.acquired_at ELSE now() END,
    instance_id = EXCLUDED.instance_id,
    lease_expires_at = EXCLUDED.lease_expires_at,
    renewed_at = now()
  RETURNING o.agent_id, o.fencing_token::text AS token, (o.xmax <> 0) AS updated,
    (SELECT p.instance_id FROM prev p WHERE p.agent_id = o.agent_id) AS prev_instance,
    (SELECT p.live FROM prev p WHERE p.agent_id = o.agent_id) AS prev_live`);

/** A live lease: who holds the agent's session, under which token. */
export interface Lease {
  agentId: string;
  instanceId: string;
  fencingToken: bigint;
}

/**
 * - `acquired`: nobody held a live lease (first connect, released, or expired after a crash);
 * - `renewed`: this instance already held it (a reconnect to the same instance keeps the token);
 * - `taken_over`: another instance held a live lease (a reconnect elsewhere);
 * - `conflict`: another instance acquired the same agent at the same moment; the later statement won.
 */
export type AcquireOutcome = 'acquired' | 'renewed' | 'taken_over' | 'conflict';

export interface Acquired {
  fencingToken: bigint;
  outcome: AcquireOutcome;
  /** The instance that held a live lease before (taken over), if known. */
  previousInstance?: string;
}

/**
 * The `agent_session_ownership` table. Every statement is one round trip; renewing all leases of an
 * instance is a single UPDATE however many sessions it holds.
 */
@Injectable()
export class SessionOwnershipRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Takes the lease on an agent for `instanceId` (see ACQUIRE_SQL). */
  async acquire(agentId: string, instanceId: string, ttlSeconds: number): Promise<Acquired> {
    return (await this.acquireMany([agentId], instanceId, ttlSeconds)).get(agentId)!;
  }

  /** Takes the leases on several agents for `instanceId` in one statement (see ACQUIRE_SQL); by agent id. */
  async acquireMany(agentIds: readonly string[], instanceId: string, ttlSeconds: number): Promise<Map<string, Acquired>> {
    const ids = [...new Set(agentIds)];
    const rows = returnedRows<{ agent_id: string; token: string; updated: boolean; prev_instance: string | null; prev_live: boolean | null }>(
      await this.dataSource.query(ACQUIRE_SQL, [ids, instanceId, ttlSeconds]),
    );
    const acquired = new Map<string, Acquired>();
    for (const row of rows) acquired.set(row.agent_id, outcomeOf(row, instanceId));
    const missing = ids.filter((id) => !acquired.has(id));
    if (missing.length) throw new Error(`the lease statement returned no row for ${missing.length} agent(s)`);
    return acquired;
  }

  /**
   * Extends every lease `instanceId` still holds; returns them (agent id → token) and which of them
   * had lapsed before this renewal (nobody took them meanwhile, but pushes in that time found no
   * owner). One statement: the self-join reads each row as it was before the update.
   */
  async renewAll(instanceId: string, ttlSeconds: number): Promise<Map<string, bigint> & { lapsed: string[] }> {
    const rows = returnedRows<{ agent_id: string; token: string; lapsed: boolean }>(
      await this.dataSource.query(
        `UPDATE agent_session_ownership o SET lease_expires_at = now() + make_interval(secs => $2), renewed_at = now()
         FROM agent_session_ownership old
         WHERE o.instance_id = $1 AND old.agent_id = o.agent_id
         RETURNING o.agent_id, o.fencing_token::text AS token, old.lease_expires_at <= now() AS lapsed`,
        [instanceId, ttlSeconds],
      ),
    );
    const held = Object.assign(new Map<string, bigint>(), { lapsed: [] as string[] });
    for (const r of rows) {
      held.set(r.agent_id, BigInt(r.token));
      if (r.lapsed) held.lapsed.push(r.agent_id);
    }
    return held;
  }

  /** Gives a lease up, if it is still this one. */
  async release(agentId: string, instanceId: string, fencingToken: bigint): Promise<boolean> {
    const rows = returnedRows(
      await this.dataSource.query(`DELETE FROM agent_session_ownership WHERE agent_id = $1 AND instance_id = $2 AND fencing_token = $3 RETURNING agent_id`, [
        agentId,
        instanceId,
        fencingToken.toString(),
      ]),
    );
    return rows.length > 0;
  }

  /** Gives up several leases (agent id → token), those still held under that token. */
  async releaseMany(instanceId: string, leases: Map<string, bigint>): Promise<number> {
    if (leases.size === 0) return 0;
    const rows = returnedRows(
      await this.dataSource.query(
        `DELETE FROM agent_session_ownership o USING unnest($2::uuid[], $3::bigint[]) AS l(agent_id, token)
         WHERE o.agent_id = l.agent_id AND o.fencing_token = l.token AND o.instance_id = $1 RETURNING o.agent_id`,
        [instanceId, [...leases.keys()], [...leases.values()].map(String)],
      ),
    );
    return rows.length;
  }

  /** Gives up every lease of an instance (graceful shutdown). */
  async releaseAll(instanceId: string): Promise<number> {
    const rows = returnedRows(await this.dataSource.query(`DELETE FROM agent_session_ownership WHERE instance_id = $1 RETURNING agent_id`, [instanceId]));
    return rows.length;
  }

  /** The live lease on an agent, if any instance holds one. */
  async owner(agentId: string): Promise<Lease | undefined> {
    const rows: Array<{ instance_id: string; token: string }> = await this.dataSource.query(
      `SELECT instance_id, fencing_token::text AS token FROM agent_session_ownership WHERE agent_id = $1 AND lease_expires_at > now()`,
      [agentId],
    );
    const row = rows[0];
    return row ? { agentId, instanceId: row.instance_id, fencingToken: BigInt(row.token) } : undefined;
  }

  /** The live leases on several agents, in one statement (an agent nobody holds is left out). */
  async owners(agentIds: string[]): Promise<Map<string, Lease>> {
    if (agentIds.length === 0) return new Map();
    const rows: Array<{ agent_id: string; instance_id: string; token: string }> = await this.dataSource.query(
      `SELECT agent_id, instance_id, fencing_token::text AS token FROM agent_session_ownership WHERE agent_id = ANY($1::uuid[]) AND lease_expires_at > now()`,
      [[...new Set(agentIds)]],
    );
    return new Map(rows.map((r) => [r.agent_id, { agentId: r.agent_id, instanceId: r.instance_id, fencingToken: BigInt(r.token) }]));
  }
}

function outcomeOf(row: { token: string; updated: boolean; prev_instance: string | null; prev_live: boolean | null }, instanceId: string): Acquired {
  const fencingToken = BigInt(row.token);
  if (row.prev_instance === null) {
    // no row when we looked, yet the insert met one: a concurrent acquire got there first
    return { fencingToken, outcome: row.updated ? 'conflict' : 'acquired' };
  }
  if (!row.prev_live) return { fencingToken, outcome: 'acquired' };
  if (row.prev_instance === instanceId) return { fencingToken, outcome: 'renewed' };
  return { fencingToken, outcome: 'taken_over', previousInstance: row.prev_instance };
}
