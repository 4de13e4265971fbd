import { AmporaConfig, loadConfig, RedisService } from '@ampora/platform';
import { TestClock } from '@ampora/testing';
import { SessionRegistry } from '../core/session-registry';
import { OPAMP_CONFIG_SECTION } from '../opamp.config';
import { TenantSessionCap } from './tenant-session-cap';

/** The session cap of one process (no Redis backplane): seats per tenant, kept by reconnects, freed by expiry. */
describe('TenantSessionCap (in this process)', () => {
  const config = loadConfig({ AMPORA_BACKPLANE: 'inprocess', AMPORA_QUEUE: 'postgres', AMPORA_LIMITS_SESSIONS_PER_TENANT: '2', AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '60' }, [OPAMP_CONFIG_SECTION]) as AmporaConfig;

  it('refuses the third session of a tenant with Retry-After, never a reconnect, and seats free up when they expire', async () => {
    const clock = new TestClock();
    const cap = new TenantSessionCap(config, {} as RedisService, new SessionRegistry(config, clock), clock);
    expect(await cap.reserve('t1', 'bs:a')).toBeUndefined();
    await clock.advance(10_000);
    expect(await cap.reserve('t1', 'bs:b')).toBeUndefined();
    expect(await cap.reserve('t1', 'bs:c')).toEqual({ cap: 2, retryAfter: 50 });
    expect(await cap.reserve('t1', 'bs:a')).toBeUndefined();
    expect(await cap.reserve('t2', 'bs:c')).toBeUndefined();
    await clock.advance(60_000);
    expect(await cap.reserve('t1', 'bs:c')).toBeUndefined();
  });

  it('defaults to 50,000 sessions per tenant; 0 is no cap', async () => {
    expect(loadConfig({}, [OPAMP_CONFIG_SECTION]).opamp.sessionsPerTenant).toBe(50_000);
    const off = loadConfig({ AMPORA_BACKPLANE: 'inprocess', AMPORA_QUEUE: 'postgres', AMPORA_LIMITS_SESSIONS_PER_TENANT: '0' }, [OPAMP_CONFIG_SECTION]) as AmporaConfig;
    const clock = new TestClock();
    const cap = new TenantSessionCap(off, {} as RedisService, new SessionRegistry(off, clock), clock);
    for (let i = 0; i < 10; i++) expect(await cap.reserve('t1', `bs:${i}`)).toBeUndefined();
  });
});
