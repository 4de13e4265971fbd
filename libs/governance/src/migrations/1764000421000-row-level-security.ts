import { MigrationInterface, QueryRunner } from 'typeorm';
import { disableTenantIsolation, enableTenantIsolation, TENANT_ISOLATION_ROLE, TenantTable } from '@ampora/platform';

/** Governance's tenant-owned tables and the column naming their tenant (`tenants`: its own id). */
const TABLES: readonly TenantTable[] = [['tenants', 'id'], 'api_tokens', 'audit_events', 'audit_event_archive', 'approval_requests', 'approval_rules', 'policies', 'tenant_policy_settings', 'lint_rules'];

/**
 * Row-level tenant isolation (issue 17 item 5, decision 0366). Creates the application's non-owner
 * role `ampora_app` (NOLOGIN, NOBYPASSRLS) when the migrating user may, lets the connecting user
 * switch to it (`SET LOCAL ROLE`), grants it the schema's tables (now and later), and puts a
 * `tenant_isolation` policy on every governance table keyed on `ampora.tenant_id`. The owner (the
 * connecting user, and any superuser) bypasses the policies: they bite inside
 * `TransactionRunner.runForTenant`, which switches to `ampora_app`. The audit tables stay
 * append-only for that role (no UPDATE, no DELETE).
 */
export class RowLevelSecurity1764000421000 implements MigrationInterface {
  name = 'RowLevelSecurity1764000421000';

  async up(q: QueryRunner): Promise<void> {
    // roles are per cluster: created once (several databases, concurrent migrations), skipped with a notice where not allowed
    await q.query(`
      DO $$
      BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}') THEN
          CREATE ROLE ${TENANT_ISOLATION_ROLE} NOLOGIN NOBYPASSRLS;
        END IF;
      EXCEPTION
        WHEN duplicate_object OR unique_violation THEN NULL;
        WHEN insufficient_privilege THEN RAISE NOTICE 'role ${TENANT_ISOLATION_ROLE} not created (no CREATEROLE): create it, then grant it to the application user';
      END $$`);
    await q.query(`
      DO $$
      BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}') THEN
          BEGIN
            EXECUTE format('GRANT ${TENANT_ISOLATION_ROLE} TO %I', current_user);
          EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            RAISE NOTICE 'role ${TENANT_ISOLATION_ROLE} not granted to %', current_user;
          END;
          GRANT USAGE ON SCHEMA public TO ${TENANT_ISOLATION_ROLE};
          GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${TENANT_ISOLATION_ROLE};
          GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${TENANT_ISOLATION_ROLE};
          ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${TENANT_ISOLATION_ROLE};
          ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${TENANT_ISOLATION_ROLE};
          REVOKE UPDATE, DELETE ON audit_events, audit_event_archive FROM ${TENANT_ISOLATION_ROLE};
        END IF;
      END $$`);
    await enableTenantIsolation(q, TABLES);
  }

  async down(q: QueryRunner): Promise<void> {
    await disableTenantIsolation(q, TABLES);
    // the role is the cluster's (other databases may use it): left in place
  }
}
