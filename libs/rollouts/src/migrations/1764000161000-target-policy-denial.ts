import { MigrationInterface, QueryRunner } from 'typeorm';

/** A target a push-time check denied is Skipped with the policy that said no (decision 0275); `reason` holds why. */
export class TargetPolicyDenial1764000161000 implements MigrationInterface {
  name = 'TargetPolicyDenial1764000161000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollout_targets ADD COLUMN denied_by_policy_id text, ADD COLUMN denied_by_policy_name text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollout_targets DROP COLUMN denied_by_policy_id, DROP COLUMN denied_by_policy_name`);
  }
}
