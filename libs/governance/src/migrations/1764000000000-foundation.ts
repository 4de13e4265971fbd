import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenants (with the `default` tenant), personal access tokens and the append-only audit log. */
export class Foundation1764000000000 implements MigrationInterface {
  name = 'Foundation1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tenants (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        name varchar(63) NOT NULL,
        display_name varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_tenants PRIMARY KEY (id),
        CONSTRAINT ck_tenants_name CHECK (name ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$')
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_tenants_name ON tenants (name)`);
    await q.query(`INSERT INTO tenants (name, display_name) VALUES ('default', 'Default')`);

    await q.query(`
      CREATE TABLE api_tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(100) NOT NULL,
        role varchar(16) NOT NULL,
        token_hash char(64) NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz NULL,
        last_used_at timestamptz NULL,
        revoked_at timestamptz NULL,
        CONSTRAINT pk_api_tokens PRIMARY KEY (id),
        CONSTRAINT fk_api_tokens_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_api_tokens_role CHECK (role IN ('Viewer', 'Operator', 'Admin'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_api_tokens_token_hash ON api_tokens (token_hash)`);
    await q.query(`CREATE INDEX ix_api_tokens_tenant_created ON api_tokens (tenant_id, created_at, id)`);

    await q.query(`
      CREATE TABLE audit_events (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        actor varchar(200) NOT NULL,
        actor_role varchar(16) NULL,
        entity_type varchar(64) NOT NULL,
        entity_id varchar(200) NOT NULL,
        action varchar(64) NOT NULL,
        before jsonb NULL,
        after jsonb NULL,
        occurred_at timestamptz(3) NOT NULL DEFAULT now(),
        source_ip varchar(64) NULL,
        trace_id varchar(32) NULL,
        additional jsonb NULL,
        CONSTRAINT pk_audit_events PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_audit_events_tenant_time ON audit_events (tenant_id, occurred_at, id)`);
    await q.query(`CREATE INDEX ix_audit_events_tenant_entity ON audit_events (tenant_id, entity_type, entity_id)`);
    await q.query(`CREATE INDEX ix_audit_events_tenant_actor ON audit_events (tenant_id, actor)`);
    await q.query(`CREATE INDEX ix_audit_events_tenant_action ON audit_events (tenant_id, action)`);
    // Append-only: rows can never be updated; only the retention sweeper may delete, by setting
    // ampora.audit_retention = 'on' inside its own transaction.
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'UPDATE' OR coalesce(current_setting('ampora.audit_retention', true), '') <> 'on' THEN
          RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'TRUNCATE' THEN RETURN NULL; END IF;
        RETURN OLD;
      END $$`);
    await q.query(`CREATE TRIGGER trg_audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`CREATE TRIGGER trg_audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only()`);
    await q.query(`DROP TABLE api_tokens`);
    await q.query(`DROP TABLE tenants`);
  }
}
