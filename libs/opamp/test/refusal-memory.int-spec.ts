import { randomBytes } from 'node:crypto';
import { AmporaConfig, loadConfig, RedisService } from '@ampora/platform';
import { TEST_REDIS_URL, TestClock } from '@ampora/testing';
import { OPAMP_CONFIG_SECTION } from '../src/opamp.config';
import { RefusalMemory } from '../src/transport/refusal-memory';

/**
 * The refusal memory two instances share through the real Redis (decisions 0120, 0443): a strike one
 * instance records refuses the credential at the other's upgrade, and the lookups of connections that
 * arrive together go to Redis in one pipeline, each answered with its own block.
 */
describe('RefusalMemory across instances (Redis)', () => {
  const prefix = `ampora-test-${randomBytes(5).toString('hex')}`;
  const config = loadConfig(
    { REDIS_URL: TEST_REDIS_URL, AMPORA_REDIS_PREFIX: prefix, AMPORA_BACKPLANE: 'redis', AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS: '5', AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS: '20' },
    [OPAMP_CONFIG_SECTION],
  ) as AmporaConfig;
  const clock = new TestClock(Date.parse('2026-01-01T00:00:00Z'));
  const redis = [new RedisService(config), new RedisService(config)];
  const [a, b] = redis.map((r) => new RefusalMemory(config, r, clock)) as [RefusalMemory, RefusalMemory];

  afterAll(async () => {
    const keys = await redis[0]!.client().keys(`${prefix}:*`);
    if (keys.length) await redis[0]!.client().del(...keys);
    await Promise.all(redis.map((r) => r.onApplicationShutdown()));
  });

  it("refuses at one instance's upgrade the credential another instance refused, until the back-off passes", async () => {
    expect(await b.blocked('shared-key')).toBeUndefined();
    const strike = await a.strike('shared-key');
    expect(strike).toEqual({ strikes: 1, until: clock.nowMs() + 5000 });
    expect(await b.blocked('shared-key')).toEqual({ strikes: 1, until: strike.until });
    await clock.advance(5000);
    expect(await b.blocked('shared-key')).toBeUndefined();
    expect(await b.strike('shared-key')).toEqual({ strikes: 2, until: clock.nowMs() + 10_000 });
    expect(await a.blocked('shared-key')).toEqual({ strikes: 2, until: clock.nowMs() + 10_000 });
  });

  it('answers the lookups of one turn from one pipeline, each with its own block', async () => {
    const struck = Array.from({ length: 10 }, (_, i) => `struck-${i}`);
    for (const key of struck) await a.strike(key);
    await a.strike('struck-0'); // a second strike: its own count comes back
    const clean = Array.from({ length: 40 }, (_, i) => `clean-${i}`);
    const before = b.lookupBatches;
    const answers = await Promise.all([...struck, ...clean, 'struck-1'].map((key) => b.blocked(key)));
    expect(b.lookupBatches - before).toBe(1);
    expect(answers[0]).toEqual({ strikes: 2, until: clock.nowMs() + 10_000 });
    expect(answers.slice(1, 10)).toEqual(Array(9).fill({ strikes: 1, until: clock.nowMs() + 5000 }));
    expect(answers.slice(10, 50)).toEqual(Array(40).fill(undefined));
    expect(answers[50]).toEqual({ strikes: 1, until: clock.nowMs() + 5000 });
  });
});
