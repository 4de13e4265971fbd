import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { createLogger } from '../logging/logger';
import { buildDataSourceOptions, MigrationClass } from './data-source';
import { EmbeddedPostgres } from './embedded/embedded-postgres';

const log = createLogger('Ampora.Platform.Database.Migrator');

/** pg_advisory_lock key shared by every Ampora process that migrates ("AMPORA" in ASCII). */
export const MIGRATION_LOCK_KEY = 0x414d504f5241;

/** Creates the database named in the URL when it does not exist yet (a fresh PostgreSQL has none). */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      log.info('Created database {Database}', { Database: name });
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      // another process created it at the same moment
      if (code === '42P04' || code === '23505') return false;
      throw error;
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock, so that several instances
 * starting together apply each migration exactly once. Returns the names applied by this call.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      for (const m of applied) log.info('Applied migration {Migration}', { Migration: m.name });
      if (applied.length === 0) log.debug('Schema is up to date');
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** The schema BullMQ's PostgreSQL backend keeps its tables in. */
export const QUEUE_SCHEMA = 'bullmq';

/**
 * Makes sure the database exists and its schema is current; used at start-up and by the CLI. In
 * embedded mode it opens the in-process database first (and creates it on the first run); when the
 * queues live in PostgreSQL it also applies BullMQ's own migrations. `migrations` is every lib's list,
 * composed by the app (apps/composition: AMPORA_MIGRATIONS).
 */
export async function prepareDatabase(config: PlatformConfig, migrations: readonly MigrationClass[]): Promise<string[]> {
  if (config.storage.mode === 'embedded') await EmbeddedPostgres.get(config.storage.dataDir);
  else await ensureDatabaseExists(config.database.url);
  const dataSource = new DataSource(buildDataSourceOptions(config, { entities: [], migrations: [...migrations], extra: { max: 2 } }));
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    if (config.queue.kind === 'postgres') await migrateQueueSchema(config, dataSource);
    return applied;
  } finally {
    await dataSource.destroy();
  }
}

/** BullMQ's PostgreSQL backend: its schema, migrated on one dedicated session (its own advisory lock). */
async function migrateQueueSchema(config: PlatformConfig, dataSource: DataSource): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runMigrations: runQueueMigrations } = require('bullmq') as typeof import('bullmq');
  if (config.storage.mode === 'embedded') {
    const client = await EmbeddedPostgres.current(config.storage.dataDir).pool(QUEUE_SCHEMA).connect();
    try {
      await runQueueMigrations(client as unknown as Parameters<typeof runQueueMigrations>[0], QUEUE_SCHEMA);
    } finally {
      client.release();
    }
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    const client = (await runner.connect()) as Parameters<typeof runQueueMigrations>[0];
    await runQueueMigrations(client, QUEUE_SCHEMA);
  } finally {
    await runner.release();
  }
}

/** Closes what prepareDatabase opened for this process (the embedded database); call after the app closed. */
export async function closeStorage(config: PlatformConfig): Promise<void> {
  if (config.storage.mode === 'embedded') await EmbeddedPostgres.current(config.storage.dataDir).close();
}
