/**
 * The tables libs/platform owns (issue 14): only its SQL, entities and migrations name them, and it
 * names no other lib's table (scripts/architecture/tables.spec.ts checks both).
 */
export const PLATFORM_TABLES = [
  'dispatch_envelopes',
  'worker_heartbeats',
] as const;
