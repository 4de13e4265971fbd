import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Agent upgrades rolled out like configurations (issue 20 item 4, decisions 0333 and 0375): a
 * rollout's subject is a configuration version or a package version. A package rollout has no
 * configuration (those columns become nullable; a check keeps each subject whole), and each target
 * remembers the package version its agent was assigned before (null: none), what a rollback or an
 * abort puts back.
 */
export class PackageRollouts1764000440000 implements MigrationInterface {
  name = 'PackageRollouts1764000440000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE rollouts ADD COLUMN subject varchar(13) NOT NULL DEFAULT 'configuration'`);
    await q.query(`ALTER TABLE rollouts ADD COLUMN package_version_id uuid NULL`);
    await q.query(`ALTER TABLE rollouts ADD COLUMN package_name text NULL`);
    await q.query(`ALTER TABLE rollouts ADD COLUMN package_version text NULL`);
    await q.query(`ALTER TABLE rollouts ALTER COLUMN configuration_id DROP NOT NULL, ALTER COLUMN version_id DROP NOT NULL, ALTER COLUMN version_number DROP NOT NULL`);
    await q.query(`ALTER TABLE rollouts ADD CONSTRAINT fk_rollouts_package_version FOREIGN KEY (package_version_id) REFERENCES package_versions (id)`);
    await q.query(`ALTER TABLE rollouts ADD CONSTRAINT ck_rollouts_subject CHECK (
      (subject = 'configuration' AND configuration_id IS NOT NULL AND version_id IS NOT NULL AND version_number IS NOT NULL AND package_version_id IS NULL)
      OR (subject = 'package' AND package_version_id IS NOT NULL AND package_name IS NOT NULL AND package_version IS NOT NULL AND configuration_id IS NULL AND version_id IS NULL))`);
    await q.query(`ALTER TABLE rollout_targets ADD COLUMN previous_package_version_id uuid NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM rollouts WHERE subject = 'package'`);
    await q.query(`ALTER TABLE rollout_targets DROP COLUMN previous_package_version_id`);
    await q.query(`ALTER TABLE rollouts DROP CONSTRAINT ck_rollouts_subject`);
    await q.query(`ALTER TABLE rollouts DROP CONSTRAINT fk_rollouts_package_version`);
    await q.query(`ALTER TABLE rollouts ALTER COLUMN configuration_id SET NOT NULL, ALTER COLUMN version_id SET NOT NULL, ALTER COLUMN version_number SET NOT NULL`);
    await q.query(`ALTER TABLE rollouts DROP COLUMN package_version, DROP COLUMN package_name, DROP COLUMN package_version_id, DROP COLUMN subject`);
  }
}
