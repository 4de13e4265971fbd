import { Client } from 'pg';
import { hashToken, mintToken } from '@ampora/platform';
import { AgentStateWriter, FLUSH_BATCH_ROWS } from '@ampora/fleet';
import { uidToString } from '@ampora/opamp';
import { collectMetric, RemoteConfigStatus, TestAgent } from '@ampora/testing';
import { randomBytes } from 'node:crypto';
import { startTestServer, TestServer } from './support/test-server';

const AGENTS = 1000;

/**
 * 1,000 agents over real WebSockets. Their state reaches PostgreSQL only through the coalescing
 * writer: a round of heartbeats costs one UPDATE statement for all of them, never one each.
 */
describe('agent state is written in batches', () => {
  let server: TestServer;
  let db: Client;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    // the automatic flush is pushed out of the way: the test flushes explicitly
    server = await startTestServer({ env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '3600000' } });
    db = new Client({ connectionString: server.db.url });
    await db.connect();
    // enrolled agents with bound bootstrap tokens, made in two statements
    const tenant = (await db.query(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0].id as string;
    const tokens = Array.from({ length: AGENTS }, () => mintToken('amp-bs'));
    const uids = Array.from({ length: AGENTS }, () => randomBytes(16));
    const ids = (
      await db.query(
        `INSERT INTO agents (tenant_id, instance_uid, identity_kind) SELECT $1, u, 'token' FROM unnest($2::uuid[]) WITH ORDINALITY AS t(u, n) ORDER BY n RETURNING id`,
        [tenant, uids.map(uidToString)],
      )
    ).rows.map((r: { id: string }) => r.id);
    await db.query(
      `INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, created_by, expires_at, redeemed_at, agent_id)
       SELECT $1, 'batch', h, 'test', now() + interval '1 hour', now(), a FROM unnest($2::text[], $3::uuid[]) AS t(h, a)`,
      [tenant, tokens.map(hashToken), ids],
    );
    const url = `${server.url.replace('http', 'ws')}/v1/opamp`;
    for (let i = 0; i < AGENTS; i += 100) {
      await Promise.all(
        tokens.slice(i, i + 100).map(async (token, j) => {
          const agent = new TestAgent({ url, token, instanceUid: uids[i + j] });
          agents.push(agent);
          await agent.connect();
          agent.hello();
          await agent.next();
        }),
      );
    }
  }, 120_000);

  afterAll(async () => {
    for (const a of agents) a.ws?.terminate();
    await db.end();
    await server.db.drop();
  });

  const updates = () => collectMetric('ampora_db_query_duration_seconds', { query: 'update agents' });

  it('writes the first status reports of 1,000 agents in a handful of statements', async () => {
    const writer = server.app.get(AgentStateWriter);
    expect(writer.pendingAgents).toBe(AGENTS);
    const before = await updates();
    const stats = await writer.flush();
    expect(stats.rows).toBe(AGENTS);
    expect(stats.statements).toBeLessThanOrEqual(Math.ceil(AGENTS / FLUSH_BATCH_ROWS) * 2);
    expect((await updates()) - before).toBe(stats.statements);
    const connected = await db.query(`SELECT count(*)::int AS n FROM agents WHERE connected AND agent_type = 'io.opentelemetry.collector'`);
    expect(connected.rows[0].n).toBe(AGENTS);
  });

  it('costs one UPDATE per flush for three rounds of heartbeats from every agent', async () => {
    const writer = server.app.get(AgentStateWriter);
    const mark = new Date(Date.now() - 1);
    for (let round = 0; round < 3; round++) {
      for (const a of agents) a.heartbeat();
      await Promise.all(agents.map((a) => a.next()));
    }
    expect(writer.pendingAgents).toBe(AGENTS);
    const before = await updates();
    const stats = await writer.flush();
    expect(stats).toEqual({ rows: AGENTS, statements: Math.ceil(AGENTS / FLUSH_BATCH_ROWS) });
    expect((await updates()) - before).toBe(Math.ceil(AGENTS / FLUSH_BATCH_ROWS));
    const fresh = await db.query(`SELECT count(*)::int AS n FROM agents WHERE last_seen_at >= $1`, [mark]);
    expect(fresh.rows[0].n).toBe(AGENTS);
  });

  it('loses nothing acknowledged on a clean shutdown', async () => {
    const hash = randomBytes(32);
    for (const a of agents) a.reportRemoteConfig(RemoteConfigStatus.APPLIED, hash);
    await Promise.all(agents.map((a) => a.next())); // every report acknowledged
    await server.app.close();
    const rows = await db.query(`SELECT count(*)::int AS n FROM agents WHERE remote_config_status = 'APPLIED' AND remote_config_hash = $1 AND NOT connected`, [hash.toString('hex')]);
    expect(rows.rows[0].n).toBe(AGENTS);
  });
});
