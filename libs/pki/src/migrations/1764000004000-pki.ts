import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The PKI: CA signing keys (private keys wrapped under the master key, or a reference into a PKCS#11
 * token), their OCSP responder certificates, every issued leaf (the agent ↔ certificate binding, by
 * fingerprint) and the last CRL signed for each key. `agents.cert_fingerprint` stays: the fleet writes
 * the fingerprint of the certificate an agent last connected with (see decision 0063).
 */
export class Pki1764000004000 implements MigrationInterface {
  name = 'Pki1764000004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pki_signing_keys (
        id uuid NOT NULL,
        state varchar(16) NOT NULL,
        algorithm varchar(16) NOT NULL,
        provider varchar(16) NOT NULL,
        common_name varchar(200) NOT NULL,
        certificate bytea NOT NULL,
        fingerprint char(64) NOT NULL,
        key_id char(40) NOT NULL,
        wrapped_private_key bytea NULL,
        wrapping_key_id char(16) NULL,
        token_key_id varchar(128) NULL,
        not_before timestamptz(3) NOT NULL,
        not_after timestamptz(3) NOT NULL,
        activated_at timestamptz(3) NULL,
        trusted_until timestamptz(3) NULL,
        retired_at timestamptz(3) NULL,
        crl_number bigint NOT NULL DEFAULT 0,
        created_by varchar(200) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_pki_signing_keys PRIMARY KEY (id),
        CONSTRAINT ck_pki_signing_keys_state CHECK (state IN ('Draft', 'Active', 'Trusted', 'Retired')),
        CONSTRAINT ck_pki_signing_keys_provider CHECK (provider IN ('software', 'pkcs11')),
        CONSTRAINT ck_pki_signing_keys_material CHECK (
          (provider = 'software' AND wrapped_private_key IS NOT NULL AND wrapping_key_id IS NOT NULL) OR
          (provider = 'pkcs11' AND token_key_id IS NOT NULL))
      )`);
    // at most one Active key: the one that signs
    await q.query(`CREATE UNIQUE INDEX ux_pki_signing_keys_active ON pki_signing_keys (state) WHERE state = 'Active'`);
    await q.query(`CREATE INDEX ix_pki_signing_keys_created ON pki_signing_keys (created_at, id)`);
    await q.query(`CREATE UNIQUE INDEX ux_pki_signing_keys_key_id ON pki_signing_keys (key_id)`);

    await q.query(`
      CREATE TABLE pki_ocsp_responders (
        id uuid NOT NULL,
        signing_key_id uuid NOT NULL,
        certificate bytea NOT NULL,
        key_id char(40) NOT NULL,
        wrapped_private_key bytea NULL,
        wrapping_key_id char(16) NULL,
        token_key_id varchar(128) NULL,
        not_before timestamptz(3) NOT NULL,
        not_after timestamptz(3) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_pki_ocsp_responders PRIMARY KEY (id),
        CONSTRAINT fk_pki_ocsp_responders_signing_key FOREIGN KEY (signing_key_id) REFERENCES pki_signing_keys (id) ON DELETE CASCADE
      )`);
    await q.query(`CREATE INDEX ix_pki_ocsp_responders_key_not_after ON pki_ocsp_responders (signing_key_id, not_after)`);

    await q.query(`
      CREATE TABLE pki_certificates (
        id uuid NOT NULL,
        tenant_id uuid NOT NULL,
        agent_id uuid NULL,
        kind varchar(16) NOT NULL,
        signing_key_id uuid NOT NULL,
        serial_number varchar(40) NOT NULL,
        fingerprint char(64) NOT NULL,
        subject varchar(500) NOT NULL,
        key_source varchar(8) NOT NULL,
        reason varchar(16) NOT NULL,
        certificate bytea NOT NULL,
        not_before timestamptz(3) NOT NULL,
        not_after timestamptz(3) NOT NULL,
        replaces_id uuid NULL,
        replaced_by_id uuid NULL,
        revoked_at timestamptz(3) NULL,
        revocation_reason varchar(32) NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_pki_certificates PRIMARY KEY (id),
        CONSTRAINT fk_pki_certificates_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
        CONSTRAINT fk_pki_certificates_signing_key FOREIGN KEY (signing_key_id) REFERENCES pki_signing_keys (id) ON DELETE RESTRICT,
        CONSTRAINT ck_pki_certificates_kind CHECK (kind IN ('agent', 'federation')),
        CONSTRAINT ck_pki_certificates_key_source CHECK (key_source IN ('server', 'csr')),
        CONSTRAINT ck_pki_certificates_reason CHECK (reason IN ('enrolment', 'renewal', 'api'))
      )`);
    await q.query(`CREATE UNIQUE INDEX ux_pki_certificates_fingerprint ON pki_certificates (fingerprint)`);
    await q.query(`CREATE UNIQUE INDEX ux_pki_certificates_key_serial ON pki_certificates (signing_key_id, serial_number)`);
    await q.query(`CREATE INDEX ix_pki_certificates_agent ON pki_certificates (agent_id, not_after) WHERE agent_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_pki_certificates_revoked ON pki_certificates (signing_key_id, revoked_at) WHERE revoked_at IS NOT NULL`);
    await q.query(`CREATE INDEX ix_pki_certificates_tenant_created ON pki_certificates (tenant_id, created_at, id)`);

    await q.query(`
      CREATE TABLE pki_crls (
        signing_key_id uuid NOT NULL,
        crl_number bigint NOT NULL,
        this_update timestamptz(3) NOT NULL,
        next_update timestamptz(3) NOT NULL,
        entries integer NOT NULL,
        der bytea NOT NULL,
        CONSTRAINT pk_pki_crls PRIMARY KEY (signing_key_id),
        CONSTRAINT fk_pki_crls_signing_key FOREIGN KEY (signing_key_id) REFERENCES pki_signing_keys (id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pki_crls`);
    await q.query(`DROP TABLE pki_certificates`);
    await q.query(`DROP TABLE pki_ocsp_responders`);
    await q.query(`DROP TABLE pki_signing_keys`);
  }
}
