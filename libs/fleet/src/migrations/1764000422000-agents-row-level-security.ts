import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/**
 * Row-level tenant isolation of `agents` (issue 17 item 5, decision 0366): the same
 * `tenant_isolation` policy as governance's tables, keyed on `ampora.tenant_id`. The owner bypasses
 * it; it bites for the non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class AgentsRowLevelSecurity1764000422000 implements MigrationInterface {
  name = 'AgentsRowLevelSecurity1764000422000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, ['agents']);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, ['agents']);
  }
}
