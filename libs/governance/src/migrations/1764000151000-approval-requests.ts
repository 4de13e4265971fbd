import { MigrationInterface, QueryRunner } from 'typeorm';

/** Four-eyes approval requests (issue 17 item 2, decision 0261): one table every domain attaches to. */
export class ApprovalRequests1764000151000 implements MigrationInterface {
  name = 'ApprovalRequests1764000151000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE approval_requests (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        tenant_id uuid NOT NULL,
        subject_kind varchar(32) NOT NULL,
        subject_id varchar(200) NOT NULL,
        title varchar(300) NOT NULL,
        status varchar(16) NOT NULL,
        revision integer NOT NULL DEFAULT 1,
        required_role varchar(16) NOT NULL,
        before jsonb NULL,
        after jsonb NULL,
        authors jsonb NOT NULL,
        decided_by varchar(200) NULL,
        decided_by_kind varchar(8) NULL,
        decided_by_role varchar(16) NULL,
        decided_at timestamptz(3) NULL,
        reason text NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_approval_requests PRIMARY KEY (id),
        CONSTRAINT fk_approval_requests_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_approval_requests_status CHECK (status IN ('Pending', 'Approved', 'Rejected', 'Withdrawn')),
        CONSTRAINT ck_approval_requests_subject_kind CHECK (subject_kind IN ('Policy', 'SigningKey', 'FederationPeer', 'LintRule', 'Custom'))
      )`);
    // one open request per subject
    await q.query(`CREATE UNIQUE INDEX ux_approval_requests_pending_subject ON approval_requests (tenant_id, subject_kind, subject_id) WHERE status = 'Pending'`);
    await q.query(`CREATE INDEX ix_approval_requests_tenant_created ON approval_requests (tenant_id, created_at, id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE approval_requests`);
  }
}
