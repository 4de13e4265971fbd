import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/** GitOps' tables, each with its own `tenant_id`. */
const TABLES = ['gitops_sources', 'gitops_sync_runs', 'gitops_files', 'gitops_source_edits'];

/**
 * Row-level tenant isolation of GitOps's tenant-owned tables (issue 17 item 5, decision 0405): the same
 * `tenant_isolation` policy as governance's tables and `agents` (decision 0366), keyed on the
 * transaction-local `ampora.tenant_id` (unset: no row). The owner bypasses it; it bites for the
 * non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class GitopsRowLevelSecurity1764000513000 implements MigrationInterface {
  name = 'GitopsRowLevelSecurity1764000513000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
  }
}
