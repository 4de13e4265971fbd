import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/** Federation's tables, each with its own `tenant_id`. */
const TABLES = ['federation_credentials', 'federation_peers', 'federated_rollouts', 'federation_handovers'];

/**
 * Row-level tenant isolation of federation's tenant-owned tables (issue 17 item 5, decision 0405): the same
 * `tenant_isolation` policy as governance's tables and `agents` (decision 0366), keyed on the
 * transaction-local `ampora.tenant_id` (unset: no row). The owner bypasses it; it bites for the
 * non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class FederationRowLevelSecurity1764000514000 implements MigrationInterface {
  name = 'FederationRowLevelSecurity1764000514000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
  }
}
