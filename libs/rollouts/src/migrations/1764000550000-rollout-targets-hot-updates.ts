import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A target's row is written three or four times in a step (assigned, pushed, Applied, a health or
 * drift verdict); none of those writes changes an indexed column, so each can be an update in place
 * (HOT) when the row's page has room for its next version (decision 0433). Rows are inserted a step at
 * a time, packed: with the default fill every first update moved the row to another page and wrote a
 * new entry in each of the table's three indexes.
 */
export class RolloutTargetsHotUpdates1764000550000 implements MigrationInterface {
  name = 'RolloutTargetsHotUpdates1764000550000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollout_targets SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollout_targets RESET (fillfactor)`);
  }
}
