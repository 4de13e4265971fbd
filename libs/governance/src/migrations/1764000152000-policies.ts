import { MigrationInterface, QueryRunner } from 'typeorm';

/** Custom policies and each tenant's policy settings (issue 17 item 1, decision 0262). */
export class Policies1764000152000 implements MigrationInterface {
  name = 'Policies1764000152000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE policies (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(100) NOT NULL,
        description varchar(2000) NOT NULL DEFAULT '',
        expression text NOT NULL,
        status varchar(16) NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        activated_at timestamptz(3) NULL,
        CONSTRAINT pk_policies PRIMARY KEY (id),
        CONSTRAINT fk_policies_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_policies_status CHECK (status IN ('Draft', 'PendingApproval', 'Active', 'Disabled'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_policies_tenant_name ON policies (tenant_id, lower(name))`);
    await q.query(`CREATE INDEX ix_policies_tenant_status ON policies (tenant_id, status)`);
    await q.query(`
      CREATE TABLE tenant_policy_settings (
        tenant_id uuid NOT NULL,
        mode varchar(16) NOT NULL DEFAULT 'required',
        exporter_swap boolean NOT NULL DEFAULT true,
        insecure_tls_exporter boolean NOT NULL DEFAULT true,
        updated_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_tenant_policy_settings PRIMARY KEY (tenant_id),
        CONSTRAINT fk_tenant_policy_settings_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_tenant_policy_settings_mode CHECK (mode IN ('required', 'shadow'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tenant_policy_settings`);
    await q.query(`DROP TABLE policies`);
  }
}
