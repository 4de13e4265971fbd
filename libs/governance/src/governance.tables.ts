/** The tables libs/governance owns (checked by scripts/architecture/tables.spec.ts). */
export const GOVERNANCE_TABLES = ['tenants', 'api_tokens', 'audit_events', 'audit_event_archive', 'approval_requests', 'policies', 'tenant_policy_settings', 'lint_rules', 'approval_rules'] as const;
