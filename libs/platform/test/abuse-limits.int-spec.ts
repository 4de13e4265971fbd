import { AbuseLimiter, Clock, loadConfig, RedisService } from '@ampora/platform';
import { TEST_REDIS_URL, TestClock } from '@ampora/testing';
import { randomBytes } from 'node:crypto';

/**
 * The abuse limits of two instances sharing the real Redis (decision 0290): attempts one instance
 * counted are counted by the other, so a brute force spread over instances is stopped at the limit
 * (plus one attempt per other instance, the one that finds out).
 */
describe('AbuseLimiter across instances (Redis)', () => {
  const env = { REDIS_URL: TEST_REDIS_URL, AMPORA_REDIS_PREFIX: `ampora-test-${randomBytes(5).toString('hex')}`, AMPORA_BACKPLANE: 'redis', AMPORA_LIMITS_AUTH_FAILURES_PER_IP: '10' };
  const config = loadConfig(env);
  const clock: Clock = new TestClock(Date.parse('2026-01-01T00:00:00Z'));
  const redis = [new RedisService(config), new RedisService(config)];
  const [a, b] = redis.map((r) => new AbuseLimiter(config, r, clock));

  afterAll(async () => {
    const keys = await redis[0]!.client().keys(`${env.AMPORA_REDIS_PREFIX}:*`);
    if (keys.length) await redis[0]!.client().del(...keys);
    await Promise.all(redis.map((r) => r.onApplicationShutdown()));
  });

  it('stops a brute force alternating between two instances after the limit', async () => {
    const answers: string[] = [];
    for (let i = 0; i < 30; i++) {
      const instance = i % 2 === 0 ? a! : b!;
      const held = instance.throttled('auth_failure', { ip: '192.0.2.7' }) ?? (await instance.count('auth_failure', { ip: '192.0.2.7' }));
      answers.push(held ? '429' : '401');
    }
    // 10 refusals looked at, the 11th over the limit; the other instance finds out at its next attempt
    expect(answers.slice(0, 10)).toEqual(Array(10).fill('401'));
    expect(answers.filter((x) => x === '401')).toHaveLength(10);
    expect(answers.slice(10)).toEqual(Array(20).fill('429'));
    expect(a!.throttled('auth_failure', { ip: '192.0.2.8' })).toBeUndefined();
  });
});
