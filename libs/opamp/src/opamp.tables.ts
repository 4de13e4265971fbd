/** The tables libs/opamp owns (checked by scripts/architecture/tables.spec.ts). */
export const OPAMP_TABLES = ['agent_session_ownership'] as const;
