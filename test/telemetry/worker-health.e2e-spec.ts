import { createServer, Server as NetServer, Socket, connect } from 'node:net';
import { createTestDatabase, eventually, freePort, RunningProcess, startProcess, TestDatabase, testEnv } from '@ampora/testing';

/**
 * A TCP proxy in front of PostgreSQL that the test can cut: the processes reach the database only
 * through it, so "PostgreSQL is unreachable" is real for them and for nobody else.
 */
class CuttableProxy {
  private server?: NetServer;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(port = 0): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((r) => this.server?.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

/**
 * The worker's HTTP face in PostgreSQL mode (queues and backplane on PostgreSQL, no Redis): live,
 * ready (database, backplane, job consumers) and metrics on AMPORA_WORKER_HTTP_PORT; both processes'
 * readiness answers 503 naming `database` while PostgreSQL is unreachable, and 200 again after.
 */
describe('worker and server health in PostgreSQL mode', () => {
  const proxy = new CuttableProxy();
  let db: TestDatabase;
  let server: RunningProcess;
  let worker: RunningProcess;
  let serverUrl: string;
  let workerUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await proxy.open();
    const url = new URL(db.url);
    url.host = `127.0.0.1:${proxy.port}`;
    const { env } = testEnv(url.toString(), { AMPORA_QUEUE: 'postgres', AMPORA_BACKPLANE: 'postgres', REDIS_URL: 'redis://127.0.0.1:1' });
    const workerPort = await freePort();
    server = startProcess('server', { ...env, AMPORA_INSTANCE_ID: 'health-server' });
    worker = startProcess('worker', { ...env, AMPORA_INSTANCE_ID: 'health-worker', AMPORA_WORKER_HTTP_PORT: String(workerPort) });
    const listening = await server.waitFor((r) => typeof r.Port === 'number', 90000);
    serverUrl = `http://127.0.0.1:${listening.Port as number}`;
    await worker.waitFor((r) => r.category === 'Ampora.Worker.Http' && r.Port === workerPort, 90000);
    workerUrl = `http://127.0.0.1:${workerPort}`;
  }, 120000);

  afterAll(async () => {
    await Promise.all([server?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await proxy.cut().catch(() => undefined);
    await db?.drop();
  });

  const ready = async (base: string) => {
    const res = await fetch(`${base}/health/ready`);
    return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { status: string; error?: string }> } };
  };

  it('answers live, ready (with its consumers) and metrics on the worker port', async () => {
    expect((await fetch(`${workerUrl}/health/live`)).status).toBe(200);
    const r = await eventually(async () => {
      const x = await ready(workerUrl);
      return x.status === 200 ? x : undefined;
    }, 20000, 200);
    expect(r.body.checks).toMatchObject({ database: { status: 'up' }, backplane: { status: 'up' }, consumers: { status: 'up' } });
    expect(r.body.checks.redis).toBeUndefined();
    expect((await ready(serverUrl)).status).toBe(200);
    const metrics = await fetch(`${workerUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = await metrics.text();
    expect(text).toMatch(/^# TYPE ampora_db_pool_open_connections gauge$/m);
    expect(text).toMatch(/^ampora_db_pool_open_connections\{instance="health-worker"\} \d+/m);
    // the worker's own jobs are counted on its /metrics (the CRL publication at start-up)
    await eventually(async () => /^ampora_pki_crl_publish_duration_seconds_count\{tenant="[^"]+"\} [1-9]/m.test(await (await fetch(`${workerUrl}/metrics`)).text()), 20000, 250);
    expect((await fetch(`${workerUrl}/nothing`)).status).toBe(404);
  });

  it('answers 503 naming the database while PostgreSQL is unreachable, in both processes, and 200 again after', async () => {
    await proxy.cut();
    for (const base of [workerUrl, serverUrl]) {
      const down = await eventually(async () => {
        const x = await ready(base);
        return x.status === 503 ? x : undefined;
      }, 15000, 250);
      expect(down.body.status).toBe('unavailable');
      expect(down.body.checks.database).toMatchObject({ status: 'down', error: expect.any(String) });
      // liveness is not readiness: the process is up
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
    }
    await proxy.open(proxy.port);
    for (const base of [workerUrl, serverUrl]) {
      await eventually(async () => (await ready(base)).status === 200, 30000, 500);
    }
  }, 90000);
});
