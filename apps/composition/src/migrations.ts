import { MigrationClass, PLATFORM_MIGRATIONS } from '@ampora/platform';
import { GOVERNANCE_MIGRATIONS } from '@ampora/governance';
import { FLEET_MIGRATIONS } from '@ampora/fleet';
import { PKI_MIGRATIONS } from '@ampora/pki';
import { ROLLOUTS_MIGRATIONS } from '@ampora/rollouts';
import { GITOPS_MIGRATIONS } from '@ampora/gitops';
import { FEDERATION_MIGRATIONS } from '@ampora/federation';

/** `Name1764000001000` → 1764000001000 (TypeORM's own reading of a migration's timestamp). */
export function migrationTimestamp(migration: MigrationClass): number {
  const digits = /(\d{13})$/.exec(migration.name);
  if (!digits) throw new Error(`migration ${migration.name} does not end in a 13-digit timestamp`);
  return Number(digits[1]);
}

/**
 * Every lib's migrations, in timestamp order (the order TypeORM runs them in anyway). A lib that owns
 * tables adds its <LIB>_MIGRATIONS here; the migrator, the CLI and the test databases use this list.
 */
export const AMPORA_MIGRATIONS: readonly MigrationClass[] = [...PLATFORM_MIGRATIONS, ...GOVERNANCE_MIGRATIONS, ...PKI_MIGRATIONS, ...FLEET_MIGRATIONS, ...ROLLOUTS_MIGRATIONS, ...GITOPS_MIGRATIONS, ...FEDERATION_MIGRATIONS].sort(
  (a, b) => migrationTimestamp(a) - migrationTimestamp(b),
);
