import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/** PKI's tenant-owned tables; the CA (`pki_signing_keys`, `pki_ocsp_responders`, `pki_crls`) is the deployment's, global. */
const TABLES = ['pki_certificates', 'pki_adopted_certificates'];

/**
 * Row-level tenant isolation of PKI's tenant-owned tables (issue 17 item 5, decision 0405): the same
 * `tenant_isolation` policy as governance's tables and `agents` (decision 0366), keyed on the
 * transaction-local `ampora.tenant_id` (unset: no row). The owner bypasses it; it bites for the
 * non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class PkiRowLevelSecurity1764000511000 implements MigrationInterface {
  name = 'PkiRowLevelSecurity1764000511000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
  }
}
