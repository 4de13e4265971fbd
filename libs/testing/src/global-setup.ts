import { loadConfig, prepareDatabase } from '@ampora/platform';
import { templateName, urlForDatabase, withAdmin } from './pg-admin';

/** Builds the migrated template database once per test run (idempotent, safe to call twice). */
export default async function globalSetup(): Promise<void> {
  const name = templateName();
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(4242)');
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount) return;
      await admin.query(`CREATE DATABASE "${name}"`);
      try {
        await prepareDatabase(loadConfig({ DATABASE_URL: urlForDatabase(name), LOG_LEVEL: 'Warning' }));
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        throw error;
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(4242)');
    }
  });
}
