import { MigrationInterface, QueryRunner } from 'typeorm';

/** An agent handed over to a peer (MovedToPeer), or from one (its origin): decision 0371. */
export class AgentHandover1764000432000 implements MigrationInterface {
  name = 'AgentHandover1764000432000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents ADD COLUMN moved_to_peer varchar(63) NULL, ADD COLUMN moved_at timestamptz(3) NULL, ADD COLUMN origin_peer varchar(63) NULL, ADD COLUMN origin_agent_id varchar(100) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN moved_to_peer, DROP COLUMN moved_at, DROP COLUMN origin_peer, DROP COLUMN origin_agent_id`);
  }
}
