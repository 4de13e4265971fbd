import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An operator's "rotate now" (decision 0380): the certificate an agent uses is marked, and a fresh one
 * is offered to the agent at once (its live session) or on its next connection, whichever comes first.
 */
export class CertificateRotation1764000450000 implements MigrationInterface {
  name = 'CertificateRotation1764000450000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pki_certificates ADD COLUMN rotation_requested_at timestamptz(3) NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pki_certificates DROP COLUMN rotation_requested_at`);
  }
}
