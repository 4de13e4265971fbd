/** libs/dsl is pure (the expression language): it owns no table and names none (scripts/architecture/tables.spec.ts). */
export const DSL_TABLES = [] as const;
