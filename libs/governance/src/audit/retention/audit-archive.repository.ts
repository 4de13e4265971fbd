import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface TenantCount {
  tenantId: string;
  count: number;
}

export interface MovedBatch {
  /** Hot rows deleted by the batch. */
  moved: number;
  /** Of those, rows written to the archive (a row already archived is not written twice). */
  archived: TenantCount[];
}

const COLUMNS = 'id, tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, occurred_at, source_ip, trace_id, additional';

/**
 * One batch hot → archive, in ONE statement: the aged rows are locked (`SKIP LOCKED`, so concurrent
 * sweepers take disjoint batches), deleted from `audit_events` and inserted into
 * `audit_event_archive` (`ON CONFLICT DO NOTHING`: idempotent). Its transaction commits both or
 * neither, so a sweeper killed mid-batch loses and duplicates nothing. $1 cutoff (exclusive),
 * $2 batch size, $3 archive time.
 */
export const MOVE_BATCH_SQL = `
  WITH picked AS (
    SELECT id FROM audit_events WHERE occurred_at < $1 ORDER BY occurred_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
  ), moved AS (
    DELETE FROM audit_events e USING picked WHERE e.id = picked.id RETURNING e.*
  ), stored AS (
    INSERT INTO audit_event_archive (${COLUMNS}, archived_at)
    SELECT ${COLUMNS}, $3 FROM moved
    ON CONFLICT (id) DO NOTHING
    RETURNING tenant_id
  )
  SELECT (SELECT count(*) FROM moved)::int AS moved,
         coalesce((SELECT json_agg(t) FROM (SELECT tenant_id AS "tenantId", count(*)::int AS count FROM stored GROUP BY tenant_id) t), '[]'::json) AS archived`;

/** One batch of archive rows past the archive days, purged. $1 cutoff (exclusive), $2 batch size. */
export const PURGE_BATCH_SQL = `
  WITH picked AS (
    SELECT id FROM audit_event_archive WHERE occurred_at < $1 ORDER BY occurred_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
  ), gone AS (
    DELETE FROM audit_event_archive a USING picked WHERE a.id = picked.id RETURNING a.tenant_id
  )
  SELECT tenant_id AS "tenantId", count(*)::int AS count FROM gone GROUP BY tenant_id`;

/** The only statement that lets a transaction delete audit rows (see the append-only trigger). */
export const RETENTION_SESSION_SQL = `SET LOCAL ampora.audit_retention = 'on'`;

/** Moves and purges audit rows for the retention sweep, each batch in its own transaction. */
@Injectable()
export class AuditArchiveRepository {
  constructor(private readonly dataSource: DataSource) {}

  moveBatch(cutoff: Date, limit: number, archivedAt: Date): Promise<MovedBatch> {
    return this.inRetentionTransaction(async (m) => {
      const [row] = (await m.query(MOVE_BATCH_SQL, [cutoff, limit, archivedAt])) as Array<{ moved: number; archived: TenantCount[] }>;
      return { moved: row?.moved ?? 0, archived: row?.archived ?? [] };
    });
  }

  purgeBatch(cutoff: Date, limit: number): Promise<TenantCount[]> {
    return this.inRetentionTransaction(async (m) => (await m.query(PURGE_BATCH_SQL, [cutoff, limit])) as TenantCount[]);
  }

  private inRetentionTransaction<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (m) => {
      await m.query(RETENTION_SESSION_SQL);
      return work(m);
    });
  }
}
