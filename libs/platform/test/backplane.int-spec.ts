import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  PlatformConfig,
  Backplane,
  BackplaneMeta,
  buildDataSourceOptions,
  createBackplane,
  loadConfig,
  NOTIFY_LIMIT_BYTES,
  RedisBackplane,
  RedisService,
} from '@ampora/platform';
import { createTestDatabase, eventually, TEST_REDIS_URL, TestDatabase } from '@ampora/testing';

type Kind = 'redis' | 'postgres' | 'inprocess';

interface Received {
  body: unknown;
  meta: BackplaneMeta;
}

/** A backplane of one instance, with everything it received on the `t` topic. */
interface Member {
  backplane: Backplane;
  config: PlatformConfig;
  received: Received[];
  close(): Promise<void>;
}

/**
 * The three backplane transports against the real Redis and PostgreSQL: direct and broadcast
 * delivery, the loopback health check, order, large messages, sealing, and (PostgreSQL) recovery of a
 * lost listening connection.
 */
describe.each<Kind>(['redis', 'postgres', 'inprocess'])('the %s backplane', (kind) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const prefix = `ampora-test-${randomBytes(5).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64');
  const members: Member[] = [];
  let a: Member;
  let b: Member;

  async function member(instanceId: string, key = masterKey): Promise<Member> {
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      AMPORA_REDIS_PREFIX: prefix,
      AMPORA_INSTANCE_ID: instanceId,
      AMPORA_BACKPLANE: kind,
      AMPORA_MASTER_KEY: key,
      LOG_LEVEL: 'Warning',
    });
    const redis = new RedisService(config);
    const backplane = createBackplane(config, redis, dataSource);
    const received: Received[] = [];
    backplane.on('t', (body, meta) => received.push({ body, meta }));
    await backplane.start();
    const m: Member = {
      backplane,
      config,
      received,
      close: async () => {
        await backplane.stop();
        await redis.onApplicationShutdown();
      },
    };
    members.push(m);
    return m;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    dataSource = new DataSource(buildDataSourceOptions(loadConfig({ DATABASE_URL: db.url }), { entities: [], extra: { max: 4 } }));
    await dataSource.initialize();
    a = await member('instance-a');
    b = await member('instance-b');
  });
  afterAll(async () => {
    for (const m of members) await m.close();
    await dataSource.destroy();
    await db.drop();
  });
  beforeEach(() => {
    for (const m of members) m.received.length = 0;
  });

  it('delivers to one instance only, and says who sent it', async () => {
    await a.backplane.send('instance-b', 't', { hello: 'b' });
    await eventually(() => b.received.length === 1);
    expect(b.received[0]).toEqual({ body: { hello: 'b' }, meta: { topic: 't', from: 'instance-a', direct: true } });
    await a.backplane.send('instance-a', 't', { to: 'self' });
    await eventually(() => a.received.length === 1);
    expect(a.received[0]!.body).toEqual({ to: 'self' });
    expect(b.received).toHaveLength(1);
  });

  it('broadcasts to every other process, not back to the sender', async () => {
    const c = await member('instance-c');
    await b.backplane.broadcast('t', { n: 1 });
    await eventually(() => a.received.length === 1 && c.received.length === 1);
    expect(a.received[0]!.meta).toEqual({ topic: 't', from: 'instance-b', direct: false });
    // the sender's own copy is not delivered (publishers deliver locally themselves)
    await a.backplane.send('instance-b', 't', { marker: true });
    await eventually(() => b.received.length === 1);
    expect(b.received.map((r) => r.body)).toEqual([{ marker: true }]);
    await c.close();
    members.splice(members.indexOf(c), 1);
  });

  it('answers its readiness check with a round trip through its own channel', async () => {
    await expect(a.backplane.check()).resolves.toBeUndefined();
    await expect(b.backplane.check()).resolves.toBeUndefined();
  });

  it('keeps the order of a burst that mixes small and large messages, and carries large ones intact', async () => {
    const big = randomBytes(3 * NOTIFY_LIMIT_BYTES).toString('base64');
    for (let i = 0; i < 40; i++) await a.backplane.send('instance-b', 't', i % 3 === 0 ? { i, big } : { i });
    await eventually(() => b.received.length === 40);
    expect(b.received.map((r) => (r.body as { i: number }).i)).toEqual([...Array(40).keys()]);
    expect((b.received[3]!.body as { big: string }).big).toBe(big);
    if (kind === 'postgres') {
      // direct envelopes are deleted once read; only broadcasts wait for the sweeper
      expect((await dataSource.query('SELECT count(*)::int AS n FROM dispatch_envelopes'))[0].n).toBe(0);
    }
  });

  it('seals every message: a foreign or unsealed message is refused, and nothing readable is stored', async () => {
    const secret = 'api-key: s3cr3t-value';
    const refusedBefore = b.backplane.stats.refused;
    const stranger = await member('instance-x', randomBytes(32).toString('base64'));
    await stranger.backplane.send('instance-b', 't', { secret });
    if (kind === 'redis') {
      const raw = new Redis(TEST_REDIS_URL);
      await raw.publish(RedisBackplane.instanceChannel(prefix, 'instance-b'), JSON.stringify({ v: 1, t: 't', i: 'forged', n: 'x', b: { forged: true } }));
      raw.disconnect();
    }
    await eventually(() => b.backplane.stats.refused >= refusedBefore + (kind === 'redis' ? 2 : 1));
    expect(b.received).toEqual([]);
    if (kind === 'postgres') {
      await a.backplane.broadcast('t', { secret, pad: 'x'.repeat(NOTIFY_LIMIT_BYTES) });
      await eventually(() => b.received.length === 1);
      const stored: Array<{ payload: string }> = await dataSource.query('SELECT payload FROM dispatch_envelopes');
      expect(stored).toHaveLength(1);
      expect(stored[0]!.payload.startsWith('s1.')).toBe(true);
      expect(stored[0]!.payload).not.toContain('s3cr3t');
    }
    await stranger.close();
    members.splice(members.indexOf(stranger), 1);
  });

  if (kind === 'postgres') {
    it('listens again after its listening connection is killed', async () => {
      const admin = new Client({ connectionString: db.url });
      await admin.connect();
      try {
        const killed = await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ampora:instance-b:backplane'`);
        expect(killed.rowCount).toBe(1);
      } finally {
        await admin.end();
      }
      await eventually(async () => {
        await b.backplane.check(500);
        return true;
      }, 15000);
      await a.backplane.send('instance-b', 't', { after: 'reconnect' });
      await eventually(() => b.received.some((r) => (r.body as { after?: string }).after === 'reconnect'));
    });
  }
});
