import { MigrationInterface, QueryRunner } from 'typeorm';

/** The last push a push-time check denied for the agent: check, policy, reason, path, at (decision 0275). */
export class AgentPushDenial1764000160000 implements MigrationInterface {
  name = 'AgentPushDenial1764000160000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents ADD COLUMN push_denial jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN push_denial`);
  }
}
