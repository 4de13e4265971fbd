import { MigrationInterface, QueryRunner } from 'typeorm';

/** An agent's effective config over the configuration limits is kept but flagged, never parsed (decision 0131). */
export class EffectiveConfigTooLarge1764000060000 implements MigrationInterface {
  name = 'EffectiveConfigTooLarge1764000060000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents ADD COLUMN effective_config_too_large boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN effective_config_too_large`);
  }
}
