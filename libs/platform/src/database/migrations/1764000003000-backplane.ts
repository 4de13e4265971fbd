import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Several instances: session leases with fencing tokens (who holds each agent's live session), and
 * the large messages of the PostgreSQL backplane.
 */
export class Backplane1764000003000 implements MigrationInterface {
  name = 'Backplane1764000003000';

  async up(q: QueryRunner): Promise<void> {
    // one sequence for every agent: a token never repeats and always grows, even across deletes
    await q.query(`CREATE SEQUENCE agent_session_fencing_seq AS bigint`);
    await q.query(`
      CREATE TABLE agent_session_ownership (
        agent_id uuid NOT NULL,
        instance_id varchar(200) NOT NULL,
        fencing_token bigint NOT NULL,
        lease_expires_at timestamptz(3) NOT NULL,
        acquired_at timestamptz(3) NOT NULL DEFAULT now(),
        renewed_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_agent_session_ownership PRIMARY KEY (agent_id)
      )`);
    // renewals and releases address every lease of one instance
    await q.query(`CREATE INDEX ix_agent_session_ownership_instance ON agent_session_ownership (instance_id)`);

    await q.query(`
      CREATE TABLE dispatch_envelopes (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        channel varchar(63) NOT NULL,
        payload text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_dispatch_envelopes PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX ix_dispatch_envelopes_created ON dispatch_envelopes (created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dispatch_envelopes`);
    await q.query(`DROP TABLE agent_session_ownership`);
    await q.query(`DROP SEQUENCE agent_session_fencing_seq`);
  }
}
