import { MigrationInterface, QueryRunner } from 'typeorm';

/** A tenant's rollout defaults: what a new rollout takes for the strategy, gates and ordering it leaves out. */
export class RolloutDefaults1764000006000 implements MigrationInterface {
  name = 'RolloutDefaults1764000006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollout_defaults (
        tenant_id uuid NOT NULL,
        strategy jsonb NULL,
        gates jsonb NULL,
        ordering varchar(10) NULL,
        updated_by varchar(200) NOT NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_rollout_defaults PRIMARY KEY (tenant_id),
        CONSTRAINT fk_rollout_defaults_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_rollout_defaults_ordering CHECK (ordering IN ('random', 'hostname', 'last_seen'))
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rollout_defaults`);
  }
}
