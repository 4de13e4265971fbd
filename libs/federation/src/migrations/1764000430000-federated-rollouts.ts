import { MigrationInterface, QueryRunner } from 'typeorm';

/** Federated rollouts (decision 0370): one row per federated rollout, its legs as jsonb. */
export class FederatedRollouts1764000430000 implements MigrationInterface {
  name = 'FederatedRollouts1764000430000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE federated_rollouts (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        name varchar(200) NOT NULL,
        configuration_name varchar(200) NOT NULL,
        version_number int NOT NULL,
        content_hash char(64) NOT NULL,
        coordination varchar(20) NOT NULL,
        plan jsonb NOT NULL,
        state varchar(20) NOT NULL,
        reason text NULL,
        legs jsonb NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        finished_at timestamptz(3) NULL,
        CONSTRAINT pk_federated_rollouts PRIMARY KEY (id),
        CONSTRAINT fk_federated_rollouts_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_federated_rollouts_state CHECK (state IN ('InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack')),
        CONSTRAINT ck_federated_rollouts_coordination CHECK (coordination IN ('Independent', 'Synchronized'))
      )`);
    await q.query(`CREATE INDEX ix_federated_rollouts_tenant_created ON federated_rollouts (tenant_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE federated_rollouts`);
  }
}
