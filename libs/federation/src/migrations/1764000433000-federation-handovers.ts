import { MigrationInterface, QueryRunner } from 'typeorm';

/** Handover tokens redeemed here, one row per token id (decision 0371). */
export class FederationHandovers1764000433000 implements MigrationInterface {
  name = 'FederationHandovers1764000433000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE federation_handovers (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        peer_name varchar(63) NOT NULL,
        source_agent_id varchar(100) NOT NULL,
        agent_id uuid NULL,
        fingerprint char(64) NOT NULL,
        expires_at timestamptz(3) NOT NULL,
        redeemed_at timestamptz(3) NOT NULL,
        CONSTRAINT pk_federation_handovers PRIMARY KEY (id),
        CONSTRAINT fk_federation_handovers_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE federation_handovers`);
  }
}
