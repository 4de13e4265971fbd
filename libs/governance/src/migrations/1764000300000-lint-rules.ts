import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenant lint rules and the tenant's four-eyes mode (issue 17 item 3, decision 0300). */
export class LintRules1764000300000 implements MigrationInterface {
  name = 'LintRules1764000300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE lint_rules (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(100) NOT NULL,
        description varchar(2000) NOT NULL DEFAULT '',
        expression text NOT NULL,
        severity varchar(8) NOT NULL,
        status varchar(8) NOT NULL,
        pending_change jsonb NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_lint_rules PRIMARY KEY (id),
        CONSTRAINT fk_lint_rules_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_lint_rules_status CHECK (status IN ('Active', 'Disabled')),
        CONSTRAINT ck_lint_rules_severity CHECK (severity IN ('Error', 'Warning', 'Info'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_lint_rules_tenant_name ON lint_rules (tenant_id, lower(name))`);
    await q.query(`CREATE INDEX ix_lint_rules_tenant_status ON lint_rules (tenant_id, status)`);
    await q.query(`ALTER TABLE tenant_policy_settings ADD COLUMN four_eyes boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tenant_policy_settings DROP COLUMN four_eyes`);
    await q.query(`DROP TABLE lint_rules`);
  }
}
