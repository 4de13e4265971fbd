import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/** Rollouts' tables, each with its own `tenant_id` (`rollout_targets` too: no policy through `rollouts` is needed). */
const TABLES = ['rollouts', 'rollout_targets', 'rollout_defaults'];

/**
 * Row-level tenant isolation of rollouts's tenant-owned tables (issue 17 item 5, decision 0405): the same
 * `tenant_isolation` policy as governance's tables and `agents` (decision 0366), keyed on the
 * transaction-local `ampora.tenant_id` (unset: no row). The owner bypasses it; it bites for the
 * non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class RolloutsRowLevelSecurity1764000512000 implements MigrationInterface {
  name = 'RolloutsRowLevelSecurity1764000512000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
  }
}
