import { createTestDatabase, reportTableCounters, TestDatabase } from '@ampora/testing';
import { DataSource, QueryRunner } from 'typeorm';
import { PlatformConfig } from '../src/config/ampora-config';
import { ANALYZE_LOCK, PlannerStatistics } from '../src/database/planner-statistics';

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };
const scansOf = (n: PlanNode, table: string): string[] => [...(n['Relation Name'] === table ? [n['Node Type']] : []), ...(n.Plans ?? []).flatMap((c) => scansOf(c, table))];

/**
 * Decision 0447: a worker analyzes the tables whose rows grew past a threshold since their last
 * analysis, so a statement prepared while a table was small stops reading all of it once it is large.
 * Autovacuum is off for the table here, as it is on some servers (and is a minute late on the others).
 */
describe('planner statistics kept up with growing tables', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let runner: QueryRunner;
  let statistics: PlannerStatistics;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = await new DataSource({ type: 'postgres', url: db.url }).initialize();
    statistics = new PlannerStatistics(ds, { database: { analyzeIntervalSeconds: 0 } } as PlatformConfig);
    await ds.query(`CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), body text NOT NULL) WITH (autovacuum_enabled = false)`);
    runner = ds.createQueryRunner();
    await runner.connect();
  });
  afterAll(async () => {
    await runner?.release();
    await ds?.destroy();
    await db?.drop();
  });

  /** Runs a write on the runner's connection and makes its counts visible to pg_stat_user_tables at once. */
  async function write<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    const result = (await runner.query(sql, params)) as T;
    await reportTableCounters(runner);
    return result;
  }
  const insert = async (n: number) =>
    (await write<Array<{ id: string }>>(`INSERT INTO items (body) SELECT 'item ' || g FROM generate_series(1, $1) g RETURNING id`, [n])).map((r) => r.id);
  const plan = async (ids: string[]) => {
    const [{ 'QUERY PLAN': [p] }] = await runner.query(`EXPLAIN (FORMAT JSON) EXECUTE lookup('{${ids.join(',')}}')`);
    return scansOf(p.Plan as PlanNode, 'items');
  };

  it('analyzes a table that grew, once, so the plan cached while it was small is made again', async () => {
    const young = await insert(20);
    await ds.query('ANALYZE items');
    await runner.query(`PREPARE lookup(uuid[]) AS SELECT i.id, i.body FROM items i JOIN unnest($1::uuid[]) AS k(id) ON i.id = k.id`);
    // past five executions the connection keeps a generic plan, made while the table is one page
    for (let i = 0; i < 8; i++) expect(await runner.query(`EXECUTE lookup('{${young[i]},${young[i + 1]}}')`)).toHaveLength(2);
    const grown = await insert(20_000);
    // the trap this guards against: the cached plan reads all 20,020 rows to find two
    expect(await plan([grown[5]!, grown[15_000]!])).toContain('Seq Scan');
    expect(await statistics.analyzeChanged()).toEqual(['public.items']);
    expect(await plan([grown[5]!, grown[15_000]!])).not.toContain('Seq Scan');
    expect(await statistics.analyzeChanged()).toEqual([]);
    // too little growth since (1,000 < 500 + 0.2 × 20,020) leaves a table alone
    await insert(1000);
    expect(await statistics.analyzeChanged()).toEqual([]);
    // and so does rewriting every row (a heartbeat flush does): the plans need the size, not the values
    await write(`UPDATE items SET body = body || '.'`);
    expect(await statistics.analyzeChanged()).toEqual([]);
  });

  it('leaves a table that shrank (it keeps plans made for its larger size), and analyzes it when it grows past them', async () => {
    const [{ before }] = await ds.query(`SELECT reltuples::bigint AS before FROM pg_class WHERE relname = 'items'`);
    await write(`DELETE FROM items`);
    expect(await statistics.analyzeChanged()).toEqual([]);
    expect((await ds.query(`SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'items'`))[0].n).toBe(before);
    await insert(Number(before));
    expect(await statistics.analyzeChanged()).toEqual([]);
    await insert(Math.ceil(0.2 * Number(before)) + 1500);
    expect(await statistics.analyzeChanged()).toEqual(['public.items']);
  });

  it('leaves the analysis to the worker that holds the lock, and takes it the next turn', async () => {
    await insert(9000);
    const other = ds.createQueryRunner();
    await other.connect();
    try {
      await other.startTransaction();
      await other.query('SELECT pg_advisory_xact_lock($1)', [ANALYZE_LOCK]);
      expect(await statistics.analyzeChanged()).toEqual([]);
      await other.commitTransaction();
    } finally {
      await other.release();
    }
    expect(await statistics.analyzeChanged()).toEqual(['public.items']);
  });
});
