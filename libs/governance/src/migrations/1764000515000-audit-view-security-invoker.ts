import { MigrationInterface, QueryRunner } from 'typeorm';
import { TENANT_ISOLATION_ROLE } from '@ampora/platform';

/**
 * The audit log's view `audit_events_with_archive` (the union of `audit_events` and
 * `audit_event_archive`) reads its tables with the rights of whoever queries it
 * (`security_invoker`, PostgreSQL 15 and later, PGlite), so the `tenant_isolation` policies of both
 * tables apply through it: by default a view reads as its owner, who bypasses row-level security, and
 * a tenant-scoped transaction (`ampora_app`) would see every tenant's events (issue 17 item 5,
 * decision 0405). On an older server, which has no `security_invoker`, the application role loses
 * the view instead (fail closed: reading it tenant-scoped is refused, never wider), with a notice.
 */
export class AuditViewSecurityInvoker1764000515000 implements MigrationInterface {
  name = 'AuditViewSecurityInvoker1764000515000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF current_setting('server_version_num')::int >= 150000 THEN
          ALTER VIEW audit_events_with_archive SET (security_invoker = true);
        ELSE
          IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}') THEN
            REVOKE ALL ON audit_events_with_archive FROM ${TENANT_ISOLATION_ROLE};
          END IF;
          RAISE NOTICE 'PostgreSQL before 15 has no security_invoker: ${TENANT_ISOLATION_ROLE} may not read audit_events_with_archive';
        END IF;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DO $$
      BEGIN
        IF current_setting('server_version_num')::int >= 150000 THEN
          ALTER VIEW audit_events_with_archive RESET (security_invoker);
        ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = '${TENANT_ISOLATION_ROLE}') THEN
          GRANT SELECT ON audit_events_with_archive TO ${TENANT_ISOLATION_ROLE};
        END IF;
      END $$`);
  }
}
