import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What agents did with their remote configs (issue 26): when the last status was reported (a rollback
 * counts only statuses reported after it assigned), the last failure (kept after a later APPLIED of
 * another hash), the per-agent history of pushes and outcomes (bounded, decision 0111), and when a
 * rollout's target was assigned.
 */
export class ConfigOutcomes1764000010000 implements MigrationInterface {
  name = 'ConfigOutcomes1764000010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE agents
        ADD COLUMN remote_config_at timestamptz(3) NULL,
        ADD COLUMN last_failure_hash varchar(128) NULL,
        ADD COLUMN last_failure_message text NULL,
        ADD COLUMN last_failure_at timestamptz(3) NULL`);
    await q.query(`ALTER TABLE rollout_targets ADD COLUMN assigned_at timestamptz(3) NULL`);
    await q.query(`UPDATE rollout_targets SET assigned_at = COALESCE(pushed_at, updated_at) WHERE assigned`);
    await q.query(`
      CREATE TABLE agent_config_events (
        id bigserial NOT NULL,
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        at timestamptz(3) NOT NULL,
        kind varchar(10) NOT NULL,
        config_hash varchar(128) NOT NULL,
        message text NULL,
        CONSTRAINT pk_agent_config_events PRIMARY KEY (id),
        CONSTRAINT fk_agent_config_events_agent FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE,
        CONSTRAINT ck_agent_config_events_kind CHECK (kind IN ('PUSHED', 'APPLYING', 'APPLIED', 'FAILED', 'UNSET'))
      )`);
    await q.query(`CREATE INDEX ix_agent_config_events_agent ON agent_config_events (agent_id, at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_config_events`);
    await q.query(`ALTER TABLE rollout_targets DROP COLUMN assigned_at`);
    await q.query(`ALTER TABLE agents DROP COLUMN remote_config_at, DROP COLUMN last_failure_hash, DROP COLUMN last_failure_message, DROP COLUMN last_failure_at`);
  }
}
