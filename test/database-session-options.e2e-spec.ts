import { DataSource } from 'typeorm';
import { buildDataSourceOptions, loadConfig } from '@ampora/platform';
import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '@ampora/testing';

/**
 * Ampora's connections plan without parallel workers unless the operator says otherwise (decision
 * 0429): on a loaded machine a parallel scan of the agents table took about three times the CPU of
 * a serial one, and a steady dynamic-group reconcile of 50,000 agents was faster without.
 */
describe('the settings every database connection starts with', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function parallelWorkers(env: Record<string, string>): Promise<string> {
    const ds = new DataSource(buildDataSourceOptions(loadConfig(env), { entities: [] }));
    await ds.initialize();
    try {
      const rows: Array<{ max_parallel_workers_per_gather: string }> = await ds.query('SHOW max_parallel_workers_per_gather');
      return rows[0]!.max_parallel_workers_per_gather;
    } finally {
      await ds.destroy();
    }
  }

  it('plans serially by default', async () => {
    expect(await parallelWorkers({ DATABASE_URL: db.url })).toBe('0');
  });

  it('takes AMPORA_DB_PARALLEL_WORKERS', async () => {
    expect(await parallelWorkers({ DATABASE_URL: db.url, AMPORA_DB_PARALLEL_WORKERS: '2' })).toBe('2');
  });

  it('lets an options parameter in DATABASE_URL decide', async () => {
    const url = `${db.url}${db.url.includes('?') ? '&' : '?'}options=${encodeURIComponent('-c max_parallel_workers_per_gather=3')}`;
    expect(await parallelWorkers({ DATABASE_URL: url })).toBe('3');
  });

  it("sends nothing with -1, leaving PostgreSQL's own setting (for poolers that refuse startup options)", async () => {
    const plain = new Client({ connectionString: db.url });
    await plain.connect();
    const setting = (await plain.query<{ max_parallel_workers_per_gather: string }>('SHOW max_parallel_workers_per_gather')).rows[0]!.max_parallel_workers_per_gather;
    await plain.end();
    expect(await parallelWorkers({ DATABASE_URL: db.url, AMPORA_DB_PARALLEL_WORKERS: '-1' })).toBe(setting);
  });

  it('refuses a value PostgreSQL would not take', () => {
    expect(() => loadConfig({ DATABASE_URL: db.url, AMPORA_DB_PARALLEL_WORKERS: '-2' })).toThrow(/AMPORA_DB_PARALLEL_WORKERS/);
  });
});
