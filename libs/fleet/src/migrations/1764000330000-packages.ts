import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Packages (issue 20 item 4, decision 0331): a package per tenant and name, its versions (content
 * hash into the content-addressed store, size, ed25519 signature), and per agent the packages it is
 * assigned (`agents.assigned_packages`: name → version id, version, content hash, type).
 */
export class Packages1764000330000 implements MigrationInterface {
  name = 'Packages1764000330000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE packages (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      name text NOT NULL,
      type text NOT NULL CHECK (type IN ('TopLevel', 'Addon')),
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_packages_tenant_name UNIQUE (tenant_id, name)
    )`);
    await q.query(`CREATE TABLE package_versions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      package_id uuid NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
      tenant_id uuid NOT NULL,
      version text NOT NULL,
      content_hash text NOT NULL,
      size_bytes bigint NOT NULL,
      signature bytea,
      signature_verified boolean NOT NULL DEFAULT false,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT uq_package_versions_version UNIQUE (package_id, version)
    )`);
    await q.query(`CREATE INDEX ix_package_versions_hash ON package_versions (content_hash)`);
    await q.query(`ALTER TABLE agents ADD COLUMN assigned_packages jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE agents DROP COLUMN assigned_packages`);
    await q.query(`DROP TABLE package_versions`);
    await q.query(`DROP TABLE packages`);
  }
}
