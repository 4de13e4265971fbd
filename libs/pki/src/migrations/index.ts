import { Pki1764000004000 } from './1764000004000-pki';

/** PKI's migrations (its tables: pki.tables.ts), in timestamp order; the apps compose every lib's list. */
export const PKI_MIGRATIONS = [Pki1764000004000];
