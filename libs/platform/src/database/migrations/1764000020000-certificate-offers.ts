import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Certificate offers are followed (decision 0121): where the agent was sent and with which trust
 * (a hash over endpoint and CA bundle), when it first connected with the certificate, and when the
 * offer was found unusable (never used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS).
 */
export class CertificateOffers1764000020000 implements MigrationInterface {
  name = 'CertificateOffers1764000020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE pki_certificates
        ADD COLUMN offered_at timestamptz(3) NULL,
        ADD COLUMN offer_endpoint varchar(500) NULL,
        ADD COLUMN offer_settings_hash char(64) NULL,
        ADD COLUMN first_used_at timestamptz(3) NULL,
        ADD COLUMN offer_unusable_at timestamptz(3) NULL`);
    // certificates issued before this migration that an agent has connected with are used: without
    // this, REQUIRE_MTLS would treat them as never used and admit those agents on their token again
    await q.query(`UPDATE pki_certificates c SET first_used_at = c.created_at FROM agents a WHERE a.cert_fingerprint = c.fingerprint`);
    await q.query(`CREATE INDEX ix_pki_certificates_open_offers ON pki_certificates (offered_at) WHERE first_used_at IS NULL AND offer_unusable_at IS NULL AND revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ix_pki_certificates_open_offers`);
    await q.query(`ALTER TABLE pki_certificates DROP COLUMN offered_at, DROP COLUMN offer_endpoint, DROP COLUMN offer_settings_hash, DROP COLUMN first_used_at, DROP COLUMN offer_unusable_at`);
  }
}
