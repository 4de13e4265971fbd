import { MigrationInterface, QueryRunner } from 'typeorm';

/** Tenant-defined approval rules (issue 17 item 2, decision 0365). */
export class ApprovalRules1764000420000 implements MigrationInterface {
  name = 'ApprovalRules1764000420000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approval_rules (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(100) NOT NULL,
        description varchar(2000) NOT NULL DEFAULT '',
        operation varchar(64) NOT NULL,
        condition text NULL,
        required_role varchar(16) NOT NULL,
        status varchar(8) NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_approval_rules PRIMARY KEY (id),
        CONSTRAINT fk_approval_rules_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_approval_rules_status CHECK (status IN ('Active', 'Disabled')),
        CONSTRAINT ck_approval_rules_role CHECK (required_role IN ('Operator', 'Admin'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_approval_rules_tenant_name ON approval_rules (tenant_id, lower(name))`);
    await q.query(`CREATE INDEX ix_approval_rules_tenant_operation ON approval_rules (tenant_id, operation, status)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_rules`);
  }
}
