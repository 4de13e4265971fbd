import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GitOps (libs/gitops): sources, their sync runs (kept 30 days) and the files each source tracks.
 * Configurations stay fleet's: a file row names its configuration by id and name, without a foreign key.
 */
export class Gitops1764000140000 implements MigrationInterface {
  name = 'Gitops1764000140000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gitops_sources (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(200) NOT NULL,
        repository_url varchar(2000) NOT NULL,
        branch varchar(250) NOT NULL,
        path_glob varchar(500) NOT NULL,
        credential_kind varchar(8) NOT NULL,
        credential_sealed bytea NULL,
        poll_interval_seconds integer NOT NULL,
        status varchar(8) NOT NULL DEFAULT 'Active',
        last_synced_sha varchar(64) NULL,
        last_synced_at timestamptz(3) NULL,
        webhook_token_hash char(64) NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_gitops_sources PRIMARY KEY (id),
        CONSTRAINT fk_gitops_sources_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_gitops_sources_credential_kind CHECK (credential_kind IN ('None', 'Pat', 'SshKey')),
        CONSTRAINT ck_gitops_sources_status CHECK (status IN ('Active', 'Paused')),
        CONSTRAINT ck_gitops_sources_poll CHECK (poll_interval_seconds BETWEEN 15 AND 3600)
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_gitops_sources_tenant_name ON gitops_sources (tenant_id, name)`);
    await q.query(`CREATE INDEX ix_gitops_sources_tenant_created ON gitops_sources (tenant_id, created_at, id)`);
    await q.query(`
      CREATE TABLE gitops_sync_runs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        source_id uuid NOT NULL,
        trigger varchar(10) NOT NULL,
        outcome varchar(10) NOT NULL,
        started_at timestamptz(3) NOT NULL,
        finished_at timestamptz(3) NOT NULL,
        tip_sha varchar(64) NULL,
        files_seen integer NOT NULL DEFAULT 0,
        files_imported integer NOT NULL DEFAULT 0,
        files_unchanged integer NOT NULL DEFAULT 0,
        files_orphaned integer NOT NULL DEFAULT 0,
        errors jsonb NOT NULL DEFAULT '[]',
        failure text NULL,
        CONSTRAINT pk_gitops_sync_runs PRIMARY KEY (id),
        CONSTRAINT fk_gitops_sync_runs_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_gitops_sync_runs_source FOREIGN KEY (source_id) REFERENCES gitops_sources (id) ON DELETE CASCADE,
        CONSTRAINT ck_gitops_sync_runs_trigger CHECK (trigger IN ('schedule', 'webhook', 'manual')),
        CONSTRAINT ck_gitops_sync_runs_outcome CHECK (outcome IN ('success', 'partial', 'failed'))
      )`);
    await q.query(`CREATE INDEX ix_gitops_sync_runs_source_started ON gitops_sync_runs (source_id, started_at, id)`);
    await q.query(`CREATE INDEX ix_gitops_sync_runs_started ON gitops_sync_runs (started_at)`);
    await q.query(`
      CREATE TABLE gitops_files (
        source_id uuid NOT NULL,
        path varchar(4096) NOT NULL,
        tenant_id uuid NOT NULL,
        blob_sha varchar(64) NOT NULL,
        configuration_id uuid NOT NULL,
        configuration_name varchar(200) NOT NULL,
        commit_sha varchar(64) NOT NULL,
        status varchar(8) NOT NULL DEFAULT 'tracked',
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_gitops_files PRIMARY KEY (source_id, path),
        CONSTRAINT fk_gitops_files_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_gitops_files_source FOREIGN KEY (source_id) REFERENCES gitops_sources (id) ON DELETE CASCADE,
        CONSTRAINT ck_gitops_files_status CHECK (status IN ('tracked', 'orphaned'))
      )`);
    await q.query(`CREATE INDEX ix_gitops_files_tenant_name ON gitops_files (tenant_id, configuration_name)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gitops_files`);
    await q.query(`DROP TABLE gitops_sync_runs`);
    await q.query(`DROP TABLE gitops_sources`);
  }
}
