import { MigrationInterface, QueryRunner } from 'typeorm';

/** The agent inventory and the bootstrap tokens agents enrol with. */
export class Agents1764000001000 implements MigrationInterface {
  name = 'Agents1764000001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bootstrap_tokens (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        label varchar(200) NOT NULL,
        token_hash char(64) NOT NULL,
        group_id uuid NULL,
        labels jsonb NOT NULL DEFAULT '{}',
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        redeemed_at timestamptz(3) NULL,
        agent_id uuid NULL,
        revoked_at timestamptz(3) NULL,
        CONSTRAINT pk_bootstrap_tokens PRIMARY KEY (id),
        CONSTRAINT fk_bootstrap_tokens_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_bootstrap_tokens_token_hash ON bootstrap_tokens (token_hash)`);
    await q.query(`CREATE INDEX ix_bootstrap_tokens_tenant_created ON bootstrap_tokens (tenant_id, created_at, id)`);

    await q.query(`
      CREATE TABLE agents (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        instance_uid uuid NOT NULL,
        display_name varchar(255) NOT NULL DEFAULT '',
        agent_type varchar(255) NOT NULL DEFAULT '',
        agent_version varchar(100) NOT NULL DEFAULT '',
        identifying_attributes jsonb NOT NULL DEFAULT '{}',
        non_identifying_attributes jsonb NOT NULL DEFAULT '{}',
        tags jsonb NOT NULL DEFAULT '{}',
        labels jsonb NOT NULL DEFAULT '{}',
        capabilities bigint NOT NULL DEFAULT 0,
        healthy boolean NULL,
        health jsonb NULL,
        effective_config jsonb NULL,
        effective_config_hash char(64) NULL,
        remote_config_status varchar(16) NULL,
        remote_config_hash varchar(128) NULL,
        remote_config_error text NULL,
        failed_config_hash varchar(128) NULL,
        assigned_config jsonb NULL,
        assigned_config_hash char(64) NULL,
        assigned_content_hash char(64) NULL,
        assigned_at timestamptz(3) NULL,
        package_statuses jsonb NULL,
        available_components jsonb NULL,
        custom_capabilities jsonb NULL,
        connection_settings_status jsonb NULL,
        identity_kind varchar(16) NOT NULL,
        bootstrap_token_id uuid NULL,
        cert_fingerprint char(64) NULL,
        group_id uuid NULL,
        connected boolean NOT NULL DEFAULT false,
        transport varchar(8) NULL,
        owner_instance varchar(200) NULL,
        last_seen_at timestamptz(3) NULL,
        connected_at timestamptz(3) NULL,
        disconnected_at timestamptz(3) NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_agents PRIMARY KEY (id),
        CONSTRAINT fk_agents_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_agents_identity_kind CHECK (identity_kind IN ('token', 'certificate'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_agents_tenant_instance_uid ON agents (tenant_id, instance_uid)`);
    await q.query(`CREATE UNIQUE INDEX ux_agents_cert_fingerprint ON agents (cert_fingerprint) WHERE cert_fingerprint IS NOT NULL`);
    await q.query(`CREATE INDEX ix_agents_tenant_created ON agents (tenant_id, created_at, id)`);
    await q.query(`CREATE INDEX ix_agents_tenant_last_seen ON agents (tenant_id, last_seen_at)`);
    // selector and label filters: containment queries (labels @> '{"region":"eu"}')
    await q.query(`CREATE INDEX ix_agents_labels ON agents USING gin (labels jsonb_path_ops)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agents`);
    await q.query(`DROP TABLE bootstrap_tokens`);
  }
}
