import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agents' own telemetry (decision 0320): per agent, component, signal and measure, what the OTLP
 * intake received in each bucket (counts added up, gauges last value); and the key the per-agent
 * intake credentials are derived from.
 */
export class AgentTelemetry1764000320000 implements MigrationInterface {
  name = 'AgentTelemetry1764000320000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE agent_telemetry_rollups (
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        bucket_start timestamptz(3) NOT NULL,
        component_kind varchar(10) NOT NULL,
        component varchar(200) NOT NULL,
        signal varchar(10) NOT NULL,
        measure varchar(20) NOT NULL,
        value double precision NOT NULL,
        CONSTRAINT pk_agent_telemetry_rollups PRIMARY KEY (agent_id, bucket_start, component_kind, component, signal, measure),
        CONSTRAINT fk_agent_telemetry_rollups_agent FOREIGN KEY (agent_id) REFERENCES agents (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_agent_telemetry_rollups_bucket ON agent_telemetry_rollups (bucket_start)`);
    await q.query(`
      CREATE TABLE agent_telemetry_keys (
        id smallint NOT NULL,
        key bytea NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_agent_telemetry_keys PRIMARY KEY (id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE agent_telemetry_keys`);
    await q.query(`DROP TABLE agent_telemetry_rollups`);
  }
}
