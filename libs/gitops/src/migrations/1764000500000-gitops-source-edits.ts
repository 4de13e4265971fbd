import { MigrationInterface, QueryRunner } from 'typeorm';

/** A source's creation or edit waiting for an approval (decision 0403): its definition and sealed credential, until decided. */
export class GitopsSourceEdits1764000500000 implements MigrationInterface {
  name = 'GitopsSourceEdits1764000500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gitops_source_edits (
        source_id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        kind varchar(8) NOT NULL,
        input jsonb NOT NULL,
        credential_sealed bytea NULL,
        requested_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_gitops_source_edits PRIMARY KEY (source_id),
        CONSTRAINT fk_gitops_source_edits_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_gitops_source_edits_kind CHECK (kind IN ('Create', 'Update'))
      )`);
    await q.query(`CREATE INDEX ix_gitops_source_edits_tenant ON gitops_source_edits (tenant_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE gitops_source_edits`);
  }
}
