import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Configurations and their versions, groups, and how agents point at both: `agents.group_id` becomes
 * a foreign key (the single-group invariant is the column itself), `agents.assigned_version_id` and
 * `agents.assignment_source` record where the materialised assigned config comes from.
 */
export class FleetConfigurationsGroups1764000002000 implements MigrationInterface {
  name = 'FleetConfigurationsGroups1764000002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE configurations (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(200) NOT NULL,
        description text NOT NULL DEFAULT '',
        source varchar(8) NOT NULL DEFAULT 'api',
        latest_version integer NOT NULL DEFAULT 0,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_configurations PRIMARY KEY (id),
        CONSTRAINT fk_configurations_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_configurations_source CHECK (source IN ('api', 'git'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_configurations_tenant_name ON configurations (tenant_id, name)`);
    await q.query(`CREATE INDEX ix_configurations_tenant_created ON configurations (tenant_id, created_at, id)`);

    await q.query(`
      CREATE TABLE configuration_versions (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        configuration_id uuid NOT NULL,
        number integer NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'Draft',
        yaml text NOT NULL,
        content_hash char(64) NOT NULL,
        config_hash char(64) NOT NULL,
        files jsonb NOT NULL,
        findings jsonb NOT NULL DEFAULT '[]',
        error_count integer NOT NULL DEFAULT 0,
        warning_count integer NOT NULL DEFAULT 0,
        source_ref varchar(200) NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        published_at timestamptz(3) NULL,
        published_by varchar(200) NULL,
        archived_at timestamptz(3) NULL,
        archived_by varchar(200) NULL,
        CONSTRAINT pk_configuration_versions PRIMARY KEY (id),
        CONSTRAINT fk_configuration_versions_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_configuration_versions_configuration FOREIGN KEY (configuration_id) REFERENCES configurations (id) ON DELETE CASCADE,
        CONSTRAINT ck_configuration_versions_status CHECK (status IN ('Draft', 'Published', 'Archived'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_configuration_versions_number ON configuration_versions (configuration_id, number)`);
    // Published and Archived versions are immutable, statuses only move forward, and a version with
    // an Error finding is never published: enforced here as well as in the service.
    await q.query(`
      CREATE FUNCTION configuration_versions_guard() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF OLD.status <> 'Draft' AND (
             NEW.yaml IS DISTINCT FROM OLD.yaml OR NEW.content_hash IS DISTINCT FROM OLD.content_hash
             OR NEW.config_hash IS DISTINCT FROM OLD.config_hash OR NEW.files IS DISTINCT FROM OLD.files
             OR NEW.findings IS DISTINCT FROM OLD.findings OR NEW.number IS DISTINCT FROM OLD.number
             OR NEW.configuration_id IS DISTINCT FROM OLD.configuration_id) THEN
          RAISE EXCEPTION 'configuration version % is % and cannot change', OLD.id, OLD.status USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.status <> OLD.status AND NOT (
             (OLD.status = 'Draft' AND NEW.status IN ('Published', 'Archived'))
             OR (OLD.status = 'Published' AND NEW.status = 'Archived')) THEN
          RAISE EXCEPTION 'configuration version % cannot go from % to %', OLD.id, OLD.status, NEW.status USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF NEW.status = 'Published' AND NEW.error_count > 0 THEN
          RAISE EXCEPTION 'configuration version % has errors and cannot be published', OLD.id USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
      END $$`);
    await q.query(`CREATE TRIGGER trg_configuration_versions_guard BEFORE UPDATE ON configuration_versions FOR EACH ROW EXECUTE FUNCTION configuration_versions_guard()`);

    await q.query(`
      CREATE TABLE groups (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(200) NOT NULL,
        description text NOT NULL DEFAULT '',
        kind varchar(8) NOT NULL,
        selector text NULL,
        priority integer NOT NULL DEFAULT 0,
        assigned_version_id uuid NULL,
        assigned_at timestamptz(3) NULL,
        released_members jsonb NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        deleted_at timestamptz(3) NULL,
        deleted_by varchar(200) NULL,
        CONSTRAINT pk_groups PRIMARY KEY (id),
        CONSTRAINT fk_groups_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_groups_assigned_version FOREIGN KEY (assigned_version_id) REFERENCES configuration_versions (id),
        CONSTRAINT ck_groups_kind CHECK (kind IN ('Static', 'Dynamic')),
        CONSTRAINT ck_groups_selector CHECK ((kind = 'Dynamic') = (selector IS NOT NULL))
      )`);
    // names are unique among live groups; deleted ones keep theirs until restored
    await q.query(`CREATE UNIQUE INDEX ux_groups_tenant_name ON groups (tenant_id, name) WHERE deleted_at IS NULL`);
    await q.query(`CREATE INDEX ix_groups_tenant_created ON groups (tenant_id, created_at, id)`);

    // No group existed before this migration: group ids stored until now referenced nothing.
    await q.query(`UPDATE agents SET group_id = NULL WHERE group_id IS NOT NULL`);
    await q.query(`UPDATE bootstrap_tokens SET group_id = NULL WHERE group_id IS NOT NULL`);
    await q.query(`
      ALTER TABLE agents
        ADD COLUMN assigned_version_id uuid NULL,
        ADD COLUMN assignment_source varchar(8) NULL,
        ADD COLUMN group_pinned boolean NOT NULL DEFAULT false,
        ADD CONSTRAINT fk_agents_group FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE SET NULL,
        ADD CONSTRAINT fk_agents_assigned_version FOREIGN KEY (assigned_version_id) REFERENCES configuration_versions (id),
        ADD CONSTRAINT ck_agents_assignment_source CHECK (assignment_source IN ('direct', 'group', 'rollout'))`);
    // configs assigned so far were direct ({ yaml }) assignments
    await q.query(`UPDATE agents SET assignment_source = 'direct' WHERE assigned_config IS NOT NULL`);
    await q.query(`CREATE INDEX ix_agents_group ON agents (group_id)`);
    await q.query(`CREATE INDEX ix_agents_assigned_version ON agents (assigned_version_id) WHERE assigned_version_id IS NOT NULL`);
    await q.query(`ALTER TABLE bootstrap_tokens ADD CONSTRAINT fk_bootstrap_tokens_group FOREIGN KEY (group_id) REFERENCES groups (id) ON DELETE SET NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE bootstrap_tokens DROP CONSTRAINT fk_bootstrap_tokens_group`);
    await q.query(`DROP INDEX ix_agents_assigned_version`);
    await q.query(`DROP INDEX ix_agents_group`);
    await q.query(`
      ALTER TABLE agents
        DROP CONSTRAINT ck_agents_assignment_source,
        DROP CONSTRAINT fk_agents_assigned_version,
        DROP CONSTRAINT fk_agents_group,
        DROP COLUMN group_pinned,
        DROP COLUMN assignment_source,
        DROP COLUMN assigned_version_id`);
    await q.query(`DROP TABLE groups`);
    await q.query(`DROP TABLE configuration_versions`);
    await q.query(`DROP FUNCTION configuration_versions_guard()`);
    await q.query(`DROP TABLE configurations`);
  }
}
