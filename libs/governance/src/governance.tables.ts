/** The tables libs/governance owns (checked by scripts/architecture/tables.spec.ts). */
export const GOVERNANCE_TABLES = ['tenants', 'api_tokens', 'audit_events'] as const;
