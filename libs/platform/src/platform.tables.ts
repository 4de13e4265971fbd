/**
 * The tables libs/platform owns (issue 14): only its SQL, entities and migrations name them, and it
 * names no other lib's table (scripts/architecture/tables.spec.ts checks both).
 */
export const PLATFORM_TABLES = [
  'dispatch_envelopes',
  'worker_heartbeats',
  // Governance's tables once libs/governance is carved out of platform (issue 14): move these three
  // to libs/governance/src/governance.tables.ts with the entities and the foundation migration.
  'tenants',
  'api_tokens',
  'audit_events',
] as const;
