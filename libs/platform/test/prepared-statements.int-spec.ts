import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { InstrumentedPool, prepared } from '../src/database/instrumented-pg';

/**
 * Statement texts marked `prepared` (decision 0444) run as named prepared statements of the real
 * PostgreSQL: each connection of the pool parses and plans one once and then only executes it, with
 * new values each time; any other text is an unnamed statement as before.
 */
describe('prepared statements through the instrumented pool', () => {
  let db: TestDatabase;
  let pool: InstrumentedPool;

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = new InstrumentedPool({ connectionString: db.url, max: 1 });
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  /** The prepared statements of the pool's one connection, by name. */
  async function preparedOnConnection(): Promise<Map<string, string>> {
    const client = await pool.connect();
    try {
      const rows = (await client.query<{ name: string; statement: string }>('SELECT name, statement FROM pg_prepared_statements')).rows;
      return new Map(rows.map((r) => [r.name, r.statement]));
    } finally {
      client.release();
    }
  }

  it('prepares a marked text once per connection and runs it with each call’s values', async () => {
    const text = prepared('SELECT $1::int + $2::int AS n');
    const client = await pool.connect();
    try {
      expect((await client.query(text, [1, 2])).rows).toEqual([{ n: 3 }]);
      expect((await client.query(text, [40, 2])).rows).toEqual([{ n: 42 }]);
    } finally {
      client.release();
    }
    // through the pool's own query too (its callback form)
    expect((await pool.query(text, [5, 5])).rows).toEqual([{ n: 10 }]);
    const statements = [...(await preparedOnConnection())].filter(([, statement]) => statement === text);
    expect(statements).toHaveLength(1);
    expect(statements[0]![0]).toMatch(/^ampora_[0-9a-f]{24}$/);
  });

  it('leaves an unmarked text unnamed', async () => {
    const text = 'SELECT $1::int * 2 AS n';
    expect((await pool.query(text, [21])).rows).toEqual([{ n: 42 }]);
    expect([...(await preparedOnConnection()).values()]).not.toContain(text);
  });

  it('stops marking past the texts a connection should keep (a text built per call) and runs the rest unnamed', async () => {
    const texts = Array.from({ length: 100 }, (_, i) => prepared(`SELECT ${i} + $1::int AS n`));
    expect((await pool.query(texts[99]!, [1])).rows).toEqual([{ n: 100 }]);
    expect([...(await preparedOnConnection()).values()]).not.toContain(texts[99]);
  });
});
