import { createTestDatabase } from '@ampora/testing';
import { Figures, FULL, scaled } from './support/figures';
import { FaultProxy } from './support/fault-proxy';
import { callApi, ServerProcess, startServerProcess } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §3, PostgreSQL stopped under load: the server reaches PostgreSQL through a proxy on
 * loopback that is cut for a while (the shared PostgreSQL itself keeps running). Writes go on all
 * the time; readiness must say 503 while the database is away and 200 after, no acknowledged write
 * may be lost, and the process must live through it.
 */
const OUTAGE_MS = scaled(15_000, 4_000);
const WRITERS = scaled(20, 4);

describe('reliability: faults', () => {
  jest.setTimeout(FULL ? 300_000 : 120_000);
  let server: ServerProcess | undefined;
  let proxy: FaultProxy | undefined;
  const figures = new Figures('faults');

  afterAll(async () => {
    if (server) figures.exact('secrets in the server log', `${server.output().length} lines`, 0, secretsInOutput(server.output(), [server.adminToken, server.env.AMPORA_MASTER_KEY!]).length);
    figures.publish();
    await server?.stop();
    await proxy?.close();
  });

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
    const upAt = Date.now();
    let readyAgainMs = -1;
    while (Date.now() - upAt < 60_000) {
      if ((await ready()) === 200) {
        readyAgainMs = Date.now() - upAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
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
});
