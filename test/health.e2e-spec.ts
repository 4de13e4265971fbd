import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, TestDatabase } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/** A TCP proxy in front of PostgreSQL that the test can cut and restore. */
class CuttableProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(5432, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

describe('health endpoints', () => {
  const proxy = new CuttableProxy();
  let db: TestDatabase;
  let server: TestServer;

  beforeAll(async () => {
    await proxy.open();
    db = await createTestDatabase();
    const url = new URL(db.url);
    url.port = String(proxy.port);
    server = await startTestServer({ db: { ...db, url: url.toString() } });
  });
  afterAll(async () => {
    await server.close();
    await proxy.cut().catch(() => undefined);
    await db.drop();
  });

  it('is live and ready while PostgreSQL, Redis and the backplane answer, anonymously', async () => {
    await server.http.get('/health/live').expect(200, { status: 'ok' });
    const ready = await server.http.get('/health/ready').expect(200);
    // no worker runs beside this test server: reported (advisory), yet the instance is ready
    expect(ready.body).toEqual({
      status: 'ok',
      checks: { database: { status: 'up' }, redis: { status: 'up' }, backplane: { status: 'up' }, worker: { status: 'down', advisory: true, error: 'no worker has ever been seen' } },
    });
  });

  it('is 503 with the database unreachable and 200 again once it is back', async () => {
    await proxy.cut();
    const down = await server.http.get('/health/ready').expect(503);
    expect(down.body.status).toBe('unavailable');
    expect(down.body.checks.database.status).toBe('down');
    expect(down.body.checks.redis.status).toBe('up');
    expect(down.body.checks.backplane.status).toBe('up'); // the Redis backplane does not need PostgreSQL
    await server.http.get('/health/live').expect(200);
    await proxy.open();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await server.http.get('/health/ready')).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(200);
  });
});
