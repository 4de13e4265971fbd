import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit archive (issue 17, decision 0260): `audit_event_archive` has the columns of
 * `audit_events` plus `archived_at`, and the same append-only trigger (no UPDATE; DELETE only
 * inside the retention sweep's transaction, which sets `ampora.audit_retention = 'on'`).
 */
export class AuditEventArchive1764000150000 implements MigrationInterface {
  name = 'AuditEventArchive1764000150000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_event_archive (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        actor varchar(200) NOT NULL,
        actor_role varchar(16) NULL,
        entity_type varchar(64) NOT NULL,
        entity_id varchar(200) NOT NULL,
        action varchar(64) NOT NULL,
        before jsonb NULL,
        after jsonb NULL,
        occurred_at timestamptz(3) NOT NULL,
        source_ip varchar(64) NULL,
        trace_id varchar(32) NULL,
        additional jsonb NULL,
        archived_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_audit_event_archive PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_audit_event_archive_tenant_time ON audit_event_archive (tenant_id, occurred_at, id)`);
    await q.query(`CREATE INDEX ix_audit_event_archive_time ON audit_event_archive (occurred_at, id)`);
    // the sweep looks for aged hot rows across tenants, oldest first
    await q.query(`CREATE INDEX ix_audit_events_time ON audit_events (occurred_at, id)`);
    await q.query(`CREATE TRIGGER trg_audit_event_archive_append_only BEFORE UPDATE OR DELETE ON audit_event_archive FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`CREATE TRIGGER trg_audit_event_archive_no_truncate BEFORE TRUNCATE ON audit_event_archive FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
    // what `GET /api/audit/events?includeArchive=true` reads (PostgreSQL pushes the filters into both halves)
    const columns = 'id, tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, occurred_at, source_ip, trace_id, additional';
    await q.query(`
      CREATE VIEW audit_events_with_archive AS
        SELECT ${columns}, false AS archived FROM audit_events
        UNION ALL
        SELECT ${columns}, true AS archived FROM audit_event_archive`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP VIEW audit_events_with_archive`);
    await q.query(`DROP INDEX ix_audit_events_time`);
    await q.query(`DROP TABLE audit_event_archive`);
  }
}
