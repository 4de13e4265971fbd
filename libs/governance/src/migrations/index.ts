import { Foundation1764000000000 } from './1764000000000-foundation';

/** Governance's migrations (its tables: governance.tables.ts), in timestamp order; the apps compose every lib's list. */
export const GOVERNANCE_MIGRATIONS = [Foundation1764000000000];
