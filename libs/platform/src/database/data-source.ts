import { DataSourceOptions, MigrationInterface } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { EmbeddedPostgres } from './embedded/embedded-postgres';
import { instrumentedPg } from './instrumented-pg';
import { SnakeNamingStrategy } from './naming.strategy';

export const MIGRATIONS_TABLE = 'ampora_migrations';

/** A migration class; each lib exports its list (`FLEET_MIGRATIONS`, ...) and the apps compose them. */
export type MigrationClass = new () => MigrationInterface;

/**
 * Settings every server connection starts with (libpq's `options`). Ampora's statements are short
 * and many run at once, so they plan without parallel workers unless AMPORA_DB_PARALLEL_WORKERS says
 * otherwise (decision 0429); with -1 nothing is sent (a pooler such as PgBouncer may refuse startup
 * options). An `options` parameter in DATABASE_URL replaces these.
 */
export function sessionOptions(config: PlatformConfig): string | undefined {
  const workers = config.database.parallelWorkers;
  return workers < 0 ? undefined : `-c max_parallel_workers_per_gather=${workers}`;
}

/**
 * The one place where storage is wired: every DataSource of Ampora (the app's, the CLI's, the
 * migrator's) is built from these options. The migrations are not platform's to know: the migrator
 * (prepareDatabase) and the TypeORM CLI (ormconfig.ts) pass the list the apps compose.
 */
export function buildDataSourceOptions(config: PlatformConfig, overrides: Partial<DataSourceOptions> = {}): DataSourceOptions {
  const embedded = config.storage.mode === 'embedded';
  const options = embedded ? undefined : sessionOptions(config);
  return {
    type: 'postgres',
    // embedded: one in-process PGlite (opened by prepareDatabase), reached through a pg.Pool look-alike
    url: embedded ? 'postgres://embedded/ampora' : config.database.url,
    driver: embedded ? EmbeddedPostgres.current(config.storage.dataDir).pgModule('public') : instrumentedPg,
    schema: 'public',
    synchronize: false,
    migrationsRun: false,
    migrations: [],
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    applicationName: `ampora:${config.app.instanceId}`,
    extra: { max: config.database.poolMax, connectionTimeoutMillis: 5000, ...(options ? { options } : {}) },
    logging: false,
    ...overrides,
  } as DataSourceOptions;
}
