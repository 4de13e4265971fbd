import { DataSourceOptions, MigrationInterface } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { EmbeddedPostgres } from './embedded/embedded-postgres';
import { instrumentedPg } from './instrumented-pg';
import { SnakeNamingStrategy } from './naming.strategy';

export const MIGRATIONS_TABLE = 'ampora_migrations';

/** A migration class; each lib exports its list (`FLEET_MIGRATIONS`, ...) and the apps compose them. */
export type MigrationClass = new () => MigrationInterface;

/**
 * The one place where storage is wired: every DataSource of Ampora (the app's, the CLI's, the
 * migrator's) is built from these options. The migrations are not platform's to know: the migrator
 * (prepareDatabase) and the TypeORM CLI (ormconfig.ts) pass the list the apps compose.
 */
export function buildDataSourceOptions(config: PlatformConfig, overrides: Partial<DataSourceOptions> = {}): DataSourceOptions {
  const embedded = config.storage.mode === 'embedded';
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
    extra: { max: config.database.poolMax, connectionTimeoutMillis: 5000 },
    logging: false,
    ...overrides,
  } as DataSourceOptions;
}
