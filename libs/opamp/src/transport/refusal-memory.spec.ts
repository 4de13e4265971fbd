import { AmporaConfig, loadConfig, RedisService } from '@ampora/platform';
import { OPAMP_CONFIG_SECTION } from '../opamp.config';
import { TestClock } from '@ampora/testing';
import { RefusalMemory } from './refusal-memory';

/** The refusal memory of one process (no Redis backplane): its blocks and their end follow the Clock. */
describe('RefusalMemory (in this process)', () => {
  const config = loadConfig({ AMPORA_BACKPLANE: 'inprocess', AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS: '5', AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS: '20' }, [OPAMP_CONFIG_SECTION]) as AmporaConfig;
  const unusedRedis = {} as RedisService;

  it('blocks a refused credential for the back-off, doubling per strike, and lets it in again once the clock passed it', async () => {
    const clock = new TestClock();
    const memory = new RefusalMemory(config, unusedRedis, clock);
    expect(await memory.blocked('k')).toBeUndefined();
    const first = await memory.strike('k');
    expect(first).toEqual({ strikes: 1, until: clock.nowMs() + 5000 });
    expect(await memory.blocked('k')).toEqual({ strikes: 1, until: first.until });
    await clock.advance(4999);
    expect(await memory.blocked('k')).toBeDefined();
    await clock.advance(1);
    expect(await memory.blocked('k')).toBeUndefined();
    const second = await memory.strike('k');
    expect(second).toEqual({ strikes: 2, until: clock.nowMs() + 10_000 });
  });

  it('forgets the strikes after four times the longest back-off without a refusal', async () => {
    const clock = new TestClock();
    const memory = new RefusalMemory(config, unusedRedis, clock);
    await memory.strike('k');
    await memory.strike('k');
    await clock.advance(4 * 20_000);
    expect(await memory.strike('k')).toEqual({ strikes: 1, until: clock.nowMs() + 5000 });
  });
});
