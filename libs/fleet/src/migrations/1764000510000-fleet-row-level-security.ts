import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation } from '@ampora/platform';

/** Fleet's tenant-owned tables besides `agents` (its own migration, 1764000422000); `agent_telemetry_keys` is global (the deployment's key). */
const TABLES = ['agent_config_events', 'bootstrap_tokens', 'configurations', 'configuration_versions', 'groups', 'agent_telemetry_rollups', 'packages', 'package_versions'];

/**
 * Row-level tenant isolation of fleet's tenant-owned tables (issue 17 item 5, decision 0405): the same
 * `tenant_isolation` policy as governance's tables and `agents` (decision 0366), keyed on the
 * transaction-local `ampora.tenant_id` (unset: no row). The owner bypasses it; it bites for the
 * non-owner role `ampora_app` (`TransactionRunner.runForTenant`).
 */
export class FleetRowLevelSecurity1764000510000 implements MigrationInterface {
  name = 'FleetRowLevelSecurity1764000510000';

  async up(q: QueryRunner): Promise<void> {
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
  }
}
