import { resolve } from 'node:path';
import { register } from 'tsconfig-paths';

// globalSetup runs outside jest's module system, so the @ampora/* aliases are registered here.
register({ baseUrl: resolve(__dirname, '../../..'), paths: { '@ampora/*': ['libs/*/src/index'] } });

/** Builds the migrated template database once per test run (idempotent, safe to call twice). */
export default async function globalSetup(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadConfig, prepareDatabase } = require('@ampora/platform') as typeof import('@ampora/platform');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { templateName, urlForDatabase, withAdmin } = require('./pg-admin') as typeof import('./pg-admin');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { AMPORA_MIGRATIONS } = require('../../../apps/composition/src') as typeof import('../../../apps/composition/src');
  const name = templateName();
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(4242)');
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (exists.rowCount) return;
      await admin.query(`CREATE DATABASE "${name}"`);
      try {
        await prepareDatabase(loadConfig({ DATABASE_URL: urlForDatabase(name), LOG_LEVEL: 'Warning' }), AMPORA_MIGRATIONS);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        throw error;
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(4242)');
    }
  });
}
