import { randomBytes } from 'node:crypto';
import { Backplane, createBackplane, LIVE_BATCH_MAX, LIVE_BATCH_TOPIC, LiveBus, loadConfig, PlatformConfig, PublishedLiveEvent, RedisService } from '@ampora/platform';
import { eventually, TEST_REDIS_URL } from '@ampora/testing';

/**
 * Decision 0421: the live bus broadcasts the events one instance published in one turn of its event
 * loop as one backplane message (at most LIVE_BATCH_MAX events each), over the real Redis backplane;
 * the other instance delivers every event, in order, and a lone event still travels at once.
 */
describe('live bus batches over the Redis backplane', () => {
  const prefix = `ampora-test-${randomBytes(5).toString('hex')}`;
  const masterKey = randomBytes(32).toString('base64');
  const members: Array<{ bus: LiveBus; backplane: Backplane; redis: RedisService; received: PublishedLiveEvent[]; messages: number[] }> = [];

  async function member(instanceId: string) {
    const config: PlatformConfig = loadConfig({ REDIS_URL: TEST_REDIS_URL, AMPORA_REDIS_PREFIX: prefix, AMPORA_INSTANCE_ID: instanceId, AMPORA_BACKPLANE: 'redis', AMPORA_MASTER_KEY: masterKey, LOG_LEVEL: 'Warning' });
    const redis = new RedisService(config);
    const backplane = createBackplane(config, redis, undefined as never);
    await backplane.start();
    const bus = new LiveBus(backplane, config);
    bus.onModuleInit();
    const received: PublishedLiveEvent[] = [];
    bus.subscribe((event) => received.push(event), { name: 'test' });
    // the size of every batch message this member receives
    const messages: number[] = [];
    backplane.on(LIVE_BATCH_TOPIC, (body) => messages.push(Array.isArray(body) ? body.length : -1));
    const m = { bus, backplane, redis, received, messages };
    members.push(m);
    return m;
  }

  afterAll(async () => {
    for (const m of members) {
      m.bus.onModuleDestroy();
      await m.backplane.stop();
      await m.redis.onApplicationShutdown();
    }
  });

  it('sends the events of one turn together, in order, and a lone event at once', async () => {
    const a = await member('live-a');
    const b = await member('live-b');
    const sentBefore = a.backplane.stats.sent;
    const count = 2 * LIVE_BATCH_MAX + 50;
    for (let i = 0; i < count; i++) a.bus.publish({ type: 'test.event', tenantId: 'tenant-1', entityId: String(i), payload: { i } });
    // delivered locally at once, every one
    expect(a.received.map((e) => e.entityId)).toEqual(Array.from({ length: count }, (_, i) => String(i)));
    await eventually(() => b.received.length === count, 10_000);
    expect(b.received.map((e) => e.entityId)).toEqual(Array.from({ length: count }, (_, i) => String(i)));
    expect(b.received.every((e) => e.origin === 'live-a')).toBe(true);
    // three messages: two full batches and the rest at the end of the turn
    expect(b.messages).toEqual([LIVE_BATCH_MAX, LIVE_BATCH_MAX, 50]);
    // the sender counts a message once the transport took it, which may be after the receiver has it
    await eventually(() => a.backplane.stats.sent - sentBefore >= 3, 5_000);
    expect(a.backplane.stats.sent - sentBefore).toBe(3);

    a.bus.publish({ type: 'test.event', tenantId: 'tenant-1', entityId: 'lone', payload: {} });
    await eventually(() => b.received.length === count + 1, 5_000);
    expect(b.received.at(-1)!.entityId).toBe('lone');
    expect(b.messages.at(-1)).toBe(1);
  });
});
