import { randomBytes } from 'node:crypto';
import { AgentCapability, createTestDatabase, eventually, TestAgent } from '@ampora/testing';
import { Figures, FULL, scaled } from './support/figures';
import { FaultProxy } from './support/fault-proxy';
import { PrivatePostgres } from './support/private-postgres';
import { bootstrapTokens, callApi, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §3, PostgreSQL stopped under load: the server reaches PostgreSQL through a proxy on
 * loopback that is cut for a while (the shared PostgreSQL itself keeps running). Writes go on all
 * the time; readiness must say 503 while the database is away and 200 after, no acknowledged write
 * may be lost, and the process must live through it.
 */
const OUTAGE_MS = scaled(15_000, 4_000);
const WRITERS = scaled(20, 4);
const AGENTS = scaled(50, 10);

describe('reliability: faults', () => {
  jest.setTimeout(FULL ? 300_000 : 120_000);
  let server: ServerProcess | undefined;
  let restarted: ServerProcess | undefined;
  let proxy: FaultProxy | undefined;
  const cluster = new PrivatePostgres();
  const agents: TestAgent[] = [];
  const figures = new Figures('faults');

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    if (server) figures.exact('secrets in the server log (PostgreSQL cut away)', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!]).length);
    if (restarted) figures.exact('secrets in the server log (PostgreSQL restarted)', `${restarted.output().length} lines`, 0, secretsInOutput(restarted.output(), [restarted.adminToken, restarted.env.AMPORA_MASTER_KEY!, ...secrets]).length);
    figures.publish();
    await server?.stop();
    await restarted?.stop();
    await proxy?.close();
    await cluster.close();
  });
  const secrets: string[] = [];

  it('PostgreSQL away under load: readiness 503 then 200, no acknowledged write lost', async () => {
    const db = await createTestDatabase();
    proxy = new FaultProxy({ host: '127.0.0.1', port: 5432 });
    const port = await proxy.listen();
    const url = new URL(db.url);
    url.host = `127.0.0.1:${port}`;
    server = await startServerProcess({ DATABASE_URL: url.toString() }, { db });
    const base = server.base;
    const token = server.adminToken;
    const acknowledged: string[] = [];
    const statuses: Record<string, number> = {};
    let writing = true;
    let n = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (writing) {
        const name = `fault-${n++}`;
        const res = await callApi(base, 'POST', '/api/configurations', { name }, token).catch(() => ({ status: 0, body: {} }));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 201) acknowledged.push(name);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const ready = async () => (await fetch(`${base}/health/ready`).catch(() => ({ status: 0 }))).status;
    await new Promise((r) => setTimeout(r, 1000));
    proxy.stop();
    const downAt = Date.now();
    let sawUnready = false;
    while (Date.now() - downAt < OUTAGE_MS) {
      if ((await ready()) === 503) sawUnready = true;
      await new Promise((r) => setTimeout(r, 250));
    }
    proxy.start();
    const readyAgainMs = await msUntil(async () => (await ready()) === 200, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await Promise.all(writers);
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await callApi(base, 'GET', `/api/configurations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, token);
      for (const item of page.body.items as Array<{ name: string }>) stored.add(item.name);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);
    const sent = `${n} writes from ${WRITERS} writers; PostgreSQL away ${OUTAGE_MS / 1000} s; answers ${JSON.stringify(statuses)}`;
    figures.exact('acknowledged writes (201) missing afterwards', sent, 0, acknowledged.filter((name) => !stored.has(name)).length);
    figures.exact('readiness never 503 while PostgreSQL was away', `polled every 250 ms for ${OUTAGE_MS / 1000} s`, 0, sawUnready ? 0 : 1);
    figures.atMost('seconds until readiness 200 after PostgreSQL came back', 'polled every 250 ms', 60, readyAgainMs < 0 ? Infinity : readyAgainMs / 1000, ' s');
    figures.exact('writes answered 500 (a database away is 503 with Retry-After)', sent, 0, statuses['500'] ?? 0);
    figures.exact('server process crashes (exit)', sent, 0, server.alive() ? 0 : 1);
    expect(figures.failures()).toEqual([]);
  });

  it('PostgreSQL restarted (a private cluster, crashed): readiness 503 then 200, no acknowledged write lost, the agents\' reports of the outage stored', async () => {
    await cluster.init();
    await cluster.start();
    const name = `ampora_t_${randomBytes(6).toString('hex')}`;
    const url = await cluster.createDatabase(name);
    // the server migrates the empty database of the private cluster; the cluster goes with the test
    restarted = await startServerProcess({ DATABASE_URL: url, AMPORA_OPAMP_FLUSH_INTERVAL_MS: '200' }, { db: { name, url, drop: async () => undefined } });
    const s = restarted;
    const tokens = await bootstrapTokens(s, AGENTS, 'pg-restart');
    secrets.push(...tokens);
    for (const token of tokens) {
      const agent = new TestAgent({ url: s.wsUrl, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat | AgentCapability.ReportsHealth });
      await agent.connect();
      agent.ws!.on('error', () => undefined);
      agent.hello();
      await agent.next(15_000);
      agents.push(agent);
    }
    await eventually(async () => {
      const items = (await s.api('GET', '/api/agents?limit=500')).body.items as Array<{ status: string }> | undefined;
      return items && items.filter((i) => i.status === 'connected').length === AGENTS ? items : undefined;
    }, 30_000);

    const acknowledged: string[] = [];
    const statuses: Record<string, number> = {};
    let writing = true;
    let n = 0;
    const writers = Array.from({ length: WRITERS }, async () => {
      while (writing) {
        const config = `restart-${n++}`;
        const res = await callApi(s.base, 'POST', '/api/configurations', { name: config }, s.adminToken).catch(() => ({ status: 0, body: {} }));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 201) acknowledged.push(config);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const ready = async () => (await fetch(`${s.base}/health/ready`).catch(() => ({ status: 0 }))).status;
    await new Promise((r) => setTimeout(r, 1000));

    // a crash: no checkpoint, every connection cut; the next start recovers from the WAL
    await cluster.stop('immediate');
    const downAt = Date.now();
    // every agent reports something new while the database is away: a health it must find stored after
    const answered = new Set<TestAgent>();
    await Promise.all(
      agents.map(async (agent, i) => {
        try {
          agent.send({ health: { healthy: false, status: `outage-${i}`, last_error: 'during the PostgreSQL restart' } });
          await agent.next(10_000);
          answered.add(agent);
        } catch {
          // not answered: the report was not acknowledged, so it need not be stored
        }
      }),
    );
    let sawUnready = false;
    while (Date.now() - downAt < OUTAGE_MS) {
      if ((await ready()) === 503) sawUnready = true;
      await new Promise((r) => setTimeout(r, 250));
    }
    await cluster.start();
    const readyAgainMs = await msUntil(async () => (await ready()) === 200, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    writing = false;
    await Promise.all(writers);

    // the reports answered during the outage: flushed by the state writer once PostgreSQL is back
    const marks = new Map(agents.map((a, i) => [a, `outage-${i}`]));
    const missing = async () => {
      const stored = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = await callApi(s.base, 'GET', `/api/agents?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, s.adminToken);
        for (const item of (page.body.items ?? []) as Array<{ id: string }>) {
          const detail = await callApi(s.base, 'GET', `/api/agents/${item.id}`, undefined, s.adminToken);
          const status = (detail.body.health as { status?: string } | null)?.status;
          if (status) stored.add(status);
        }
        cursor = (page.body.nextCursor as string | null | undefined) ?? null;
      } while (cursor);
      return [...answered].filter((a) => !stored.has(marks.get(a)!));
    };
    const lostReports = await eventually(async () => {
      const m = await missing();
      return m.length === 0 ? m : undefined;
    }, 30_000).catch(() => missing());
    const stored = new Set<string>();
    let cursor: string | null = null;
    do {
      const page = await callApi(s.base, 'GET', `/api/configurations?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, undefined, s.adminToken);
      for (const item of page.body.items as Array<{ name: string }>) stored.add(item.name);
      cursor = page.body.nextCursor as string | null;
    } while (cursor);

    const sent = `private cluster crashed (pg_ctl -m immediate) and started after ${OUTAGE_MS / 1000} s; ${n} writes from ${WRITERS} writers, answers ${JSON.stringify(statuses)}`;
    figures.exact('acknowledged writes (201) missing after the restart', sent, 0, acknowledged.filter((c) => !stored.has(c)).length);
    figures.exact('agent reports answered during the outage, not stored after it', `${AGENTS} agents, one health report each while PostgreSQL was down, ${answered.size} answered`, 0, lostReports.length);
    figures.exact('readiness never 503 while PostgreSQL was down', `polled every 250 ms for ${OUTAGE_MS / 1000} s`, 0, sawUnready ? 0 : 1);
    figures.atMost('seconds until readiness 200 after PostgreSQL started again', 'polled every 250 ms', 60, readyAgainMs < 0 ? Infinity : readyAgainMs / 1000, ' s');
    figures.exact('writes answered 500 during the restart', sent, 0, statuses['500'] ?? 0);
    figures.exact('server process crashes (exit) during the restart', sent, 0, s.alive() ? 0 : 1);
    expect(figures.failures()).toEqual([]);
  });
});

/** How long until `check` holds, polled every 250 ms (-1 when it does not within `limitMs`). */
async function msUntil(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const from = Date.now();
  while (Date.now() - from < limitMs) {
    if (await check()) return Date.now() - from;
    await new Promise((r) => setTimeout(r, 250));
  }
  return -1;
}
