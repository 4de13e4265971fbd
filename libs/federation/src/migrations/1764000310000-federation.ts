import { MigrationInterface, QueryRunner } from 'typeorm';

/** Federation: this deployment's federation credentials and the tenants' peers (decisions 0310, 0311). */
export class Federation1764000310000 implements MigrationInterface {
  name = 'Federation1764000310000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE federation_credentials (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        subject varchar(500) NOT NULL,
        fingerprint char(64) NOT NULL,
        serial_number varchar(40) NOT NULL,
        certificate_pem text NOT NULL,
        private_key_sealed bytea NOT NULL,
        not_before timestamptz(3) NOT NULL,
        not_after timestamptz(3) NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_federation_credentials PRIMARY KEY (id),
        CONSTRAINT fk_federation_credentials_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_federation_credentials_not_after ON federation_credentials (not_after)`);
    await q.query(`
      CREATE TABLE federation_peers (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        name varchar(63) NOT NULL,
        endpoint varchar(500) NOT NULL,
        pinned_thumbprint char(64) NOT NULL,
        remote_certificate_pem text NULL,
        remote_tenant varchar(100) NOT NULL,
        inbound_secret_hash char(64) NOT NULL,
        outbound_secret_hash char(64) NOT NULL,
        outbound_secret_sealed bytea NOT NULL,
        status varchar(20) NOT NULL,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL,
        updated_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_federation_peers PRIMARY KEY (id),
        CONSTRAINT fk_federation_peers_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT ck_federation_peers_status CHECK (status IN ('PendingApproval', 'Active', 'Rejected'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_federation_peers_tenant_name ON federation_peers (tenant_id, name)`);
    await q.query(`CREATE INDEX ix_federation_peers_thumbprint ON federation_peers (pinned_thumbprint)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE federation_peers`);
    await q.query(`DROP TABLE federation_credentials`);
  }
}
