import { MigrationInterface, QueryRunner } from 'typeorm';

/** Certificates of agents handed over by a peer, trusted leaf by leaf (decision 0371). */
export class AdoptedCertificates1764000431000 implements MigrationInterface {
  name = 'AdoptedCertificates1764000431000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pki_adopted_certificates (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        agent_id uuid NOT NULL,
        fingerprint char(64) NOT NULL,
        certificate_pem text NOT NULL,
        issuer_ca_pem text NOT NULL,
        source varchar(200) NOT NULL,
        not_before timestamptz(3) NOT NULL,
        not_after timestamptz(3) NOT NULL,
        revoked_at timestamptz(3) NULL,
        created_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_pki_adopted_certificates PRIMARY KEY (id),
        CONSTRAINT fk_pki_adopted_certificates_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_pki_adopted_certificates_fingerprint ON pki_adopted_certificates (fingerprint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pki_adopted_certificates`);
  }
}
