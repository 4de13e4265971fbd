import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The state writer's flushes update agents' rows in place (HOT) instead of writing a new index entry
 * in every index of the table (decision 0430): no index on a column those flushes write
 * (`last_seen_at` had one), and room on each page for a row's next version. Pages written before
 * keep their fill until rewritten; new and updated pages get the room.
 */
export class AgentsHotUpdates1764000540000 implements MigrationInterface {
  name = 'AgentsHotUpdates1764000540000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_agents_tenant_last_seen`);
    await q.query(`ALTER TABLE agents SET (fillfactor = 70)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents RESET (fillfactor)`);
    await q.query(`CREATE INDEX ix_agents_tenant_last_seen ON agents (tenant_id, last_seen_at)`);
  }
}
