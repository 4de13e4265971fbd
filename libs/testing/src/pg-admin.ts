import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { AMPORA_MIGRATIONS } from '../../../apps/composition/src';

/** Where tests create their databases (a superuser connection to a maintenance database). */
export const TEST_PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function urlForDatabase(name: string): string {
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The migrated template every test database is cloned from; its name changes with the migrations. */
export function templateName(): string {
  const hash = createHash('sha1')
    .update(AMPORA_MIGRATIONS.map((m) => m.name).join(','))
    .update(__dirname)
    .digest('hex')
    .slice(0, 10);
  return `ampora_tpl_${hash}`;
}

export async function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
