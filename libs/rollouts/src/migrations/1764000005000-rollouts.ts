import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rollouts: one row per rollout (its definition, its state machine and the engine's lease), one row
 * per agent a step took (its target state and what the gates need to know about it).
 */
export class Rollouts1764000005000 implements MigrationInterface {
  name = 'Rollouts1764000005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE rollouts (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        name varchar(200) NOT NULL,
        kind varchar(10) NOT NULL DEFAULT 'Rollout',
        rollback_of uuid NULL,
        rollback_id uuid NULL,
        configuration_id uuid NOT NULL,
        version_id uuid NOT NULL,
        version_number integer NOT NULL,
        group_id uuid NOT NULL,
        cohort jsonb NULL,
        strategy jsonb NOT NULL,
        gates jsonb NOT NULL,
        ordering varchar(10) NOT NULL DEFAULT 'random',
        auto_advance boolean NOT NULL,
        dwell_seconds integer NOT NULL DEFAULT 0,
        state varchar(10) NOT NULL DEFAULT 'Pending',
        current_step integer NULL,
        steps jsonb NOT NULL DEFAULT '[]',
        gate jsonb NULL,
        gates_waived_step integer NULL,
        advance_step integer NULL,
        engine_owner varchar(200) NULL,
        engine_lease_until timestamptz(3) NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        started_at timestamptz(3) NULL,
        finished_at timestamptz(3) NULL,
        CONSTRAINT pk_rollouts PRIMARY KEY (id),
        CONSTRAINT fk_rollouts_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_rollouts_configuration FOREIGN KEY (configuration_id) REFERENCES configurations (id),
        CONSTRAINT fk_rollouts_version FOREIGN KEY (version_id) REFERENCES configuration_versions (id),
        CONSTRAINT fk_rollouts_group FOREIGN KEY (group_id) REFERENCES groups (id),
        CONSTRAINT fk_rollouts_rollback_of FOREIGN KEY (rollback_of) REFERENCES rollouts (id),
        CONSTRAINT ck_rollouts_state CHECK (state IN ('Pending', 'InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack')),
        CONSTRAINT ck_rollouts_kind CHECK (kind IN ('Rollout', 'Rollback')),
        CONSTRAINT ck_rollouts_ordering CHECK (ordering IN ('random', 'hostname', 'last_seen'))
      )`);
    await q.query(`CREATE INDEX ix_rollouts_tenant_created ON rollouts (tenant_id, created_at, id)`);
    // one active rollout per group (a rollback runs after its parent ended)
    await q.query(`CREATE UNIQUE INDEX ux_rollouts_active_group ON rollouts (group_id) WHERE state IN ('Pending', 'InProgress', 'Paused') AND kind = 'Rollout'`);
    await q.query(`CREATE INDEX ix_rollouts_active ON rollouts (state) WHERE state IN ('InProgress', 'Paused')`);

    await q.query(`
      CREATE TABLE rollout_targets (
        rollout_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        step integer NOT NULL,
        position integer NOT NULL,
        state varchar(10) NOT NULL DEFAULT 'Pending',
        reason text NULL,
        assigned boolean NOT NULL DEFAULT false,
        pushed_at timestamptz(3) NULL,
        applied_at timestamptz(3) NULL,
        disconnected_at timestamptz(3) NULL,
        recovered boolean NOT NULL DEFAULT false,
        healthy boolean NULL,
        effective_matches boolean NULL,
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_rollout_targets PRIMARY KEY (rollout_id, agent_id),
        CONSTRAINT fk_rollout_targets_rollout FOREIGN KEY (rollout_id) REFERENCES rollouts (id) ON DELETE CASCADE,
        CONSTRAINT fk_rollout_targets_agent FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE,
        CONSTRAINT ck_rollout_targets_state CHECK (state IN ('Pending', 'Applying', 'Applied', 'Failed', 'Skipped'))
      )`);
    await q.query(`CREATE INDEX ix_rollout_targets_step ON rollout_targets (rollout_id, step, position)`);
    await q.query(`CREATE INDEX ix_rollout_targets_agent ON rollout_targets (agent_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE rollout_targets`);
    await q.query(`DROP TABLE rollouts`);
  }
}
