import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { AmporaConfig } from '../config/ampora-config';
import { createLogger } from '../logging/logger';
import { buildDataSourceOptions } from './data-source';

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

/** Makes sure the database exists and its schema is current; used at start-up and by the CLI. */
export async function prepareDatabase(config: AmporaConfig): Promise<string[]> {
  await ensureDatabaseExists(config.database.url);
  const dataSource = new DataSource(buildDataSourceOptions(config, { entities: [], extra: { max: 2 } }));
  await dataSource.initialize();
  try {
    return await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
