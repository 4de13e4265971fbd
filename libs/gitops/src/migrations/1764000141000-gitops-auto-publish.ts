import { MigrationInterface, QueryRunner } from 'typeorm';

/** GitOps sources may publish what they import and roll it out to a group per path prefix (off by default). */
export class GitopsAutoPublish1764000141000 implements MigrationInterface {
  name = 'GitopsAutoPublish1764000141000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE gitops_sources ADD COLUMN auto_publish boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE gitops_sources ADD COLUMN group_assignments jsonb NOT NULL DEFAULT '[]'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE gitops_sources DROP COLUMN group_assignments`);
    await q.query(`ALTER TABLE gitops_sources DROP COLUMN auto_publish`);
  }
}
