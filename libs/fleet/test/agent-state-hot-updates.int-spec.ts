import { randomBytes } from 'node:crypto';
import { stateUpdateStatement } from '../src/agents/agent-state.statement';
import { reportTableCounters, TableUpdates, tableUpdates } from '@ampora/testing';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * Decision 0430: the state writer's heartbeat flush (`last_seen_at` of every agent that spoke) updates
 * agents' rows in place — a HOT update, no new entry in any of the table's indexes — because no index
 * covers a column it writes and each page keeps room (fillfactor 70) for a row's next version. With
 * the former index on (tenant_id, last_seen_at) none of these updates was HOT.
 */
describe('agent state writer: heartbeat flushes are HOT updates', () => {
  let kit: FleetKit;
  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(() => kit.close());

  it('leaves the columns of a heartbeat flush out of every index of agents, and room on its pages', async () => {
    const defs: Array<{ def: string }> = await kit.ds.query(`SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index WHERE indrelid = 'agents'::regclass`);
    expect(defs.length).toBeGreaterThan(3);
    for (const { def } of defs) expect(def).not.toMatch(/last_seen_at|updated_at/);
    const [{ options }]: Array<{ options: string[] | null }> = await kit.ds.query(`SELECT reloptions AS options FROM pg_class WHERE oid = 'agents'::regclass`);
    expect(options).toContain('fillfactor=70');
  });

  it('writes three heartbeat flushes of 1,000 agents, in batches as the writer cuts them, mostly as HOT updates', async () => {
    // an ANALYZE by autovacuum holds a snapshot, which keeps the old versions from being pruned while it runs
    await kit.ds.query(`ALTER TABLE agents SET (autovacuum_enabled = false)`);
    const ids = await kit.insertAgents(Array.from({ length: 1000 }, (_, i) => ({ 'host.name': `host-${i}`, region: 'eu-west-1', environment: 'prod' })));
    const runner = kit.ds.createQueryRunner();
    await runner.connect();
    try {
      const start = await tableUpdates(kit.ds, 'agents');
      // rows as wide as a reporting collector's: an effective config and an assigned one (not compressible)
      const text = (n: number) => randomBytes(n).toString('base64').slice(0, n);
      await runner.query(`UPDATE agents SET effective_config = $2::jsonb, assigned_config = $3::jsonb WHERE id = ANY($1::uuid[])`, [
        ids,
        JSON.stringify({ files: { 'collector.yaml': { body: text(1200), contentType: 'text/yaml' } } }),
        JSON.stringify({ files: { 'collector.yaml': { body: text(600), contentType: 'text/yaml' } } }),
      ]);
      const before = await counted(runner, start.all + 1000);
      for (let flush = 0; flush < 3; flush++) {
        // the writer flushes agents in the order they spoke, FLUSH_BATCH_ROWS to a statement: rows of
        // one page rarely share a statement (a page's room takes one new version at a time)
        const spoke = [...ids].sort(() => Math.random() - 0.5);
        const seen = new Date(Date.now() + flush * 1000);
        for (let i = 0; i < spoke.length; i += 100) {
          // pruning by the next update waits for the oldest snapshot of the whole server to move on, so
          // one transaction open in another database (another test file) leaves most versions in place;
          // VACUUM weighs only this database's: it gives every statement the room a quiet server would
          await kit.ds.query('VACUUM agents');
          const { sql, params } = stateUpdateStatement(['last_seen_at'], spoke.slice(i, i + 100).map((id) => [id, { last_seen_at: seen }]), 'test-instance');
          await runner.query(sql, params);
        }
      }
      const after = await counted(runner, before.all + 3000);
      expect(after.all - before.all).toBe(3000);
      // with the former index on (tenant_id, last_seen_at) none was; here about 97 %, with or without a
      // transaction open in another database (without the VACUUM, 96 % alone and 26 % beside one)
      expect(after.hot - before.hot).toBeGreaterThanOrEqual(0.8 * 3000);
    } finally {
      await runner.release();
    }
  });

  /** The table's update counters once `runner`'s updates reached the statistics (it reports them when next idle). */
  async function counted(runner: { query(sql: string): Promise<unknown> }, atLeast: number): Promise<TableUpdates> {
    await reportTableCounters(runner);
    return tableUpdates(kit.ds, 'agents', atLeast);
  }
});
