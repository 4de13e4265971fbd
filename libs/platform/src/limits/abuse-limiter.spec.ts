import { TestClock } from '@ampora/testing';
import { loadConfig, PlatformConfig } from '../config/ampora-config';
import { RedisService } from '../redis/redis.service';
import { AbuseLimiter } from './abuse-limiter';
import { overLimit, secondsUntil, sourceAddress, windowAt } from './domain/fixed-window';

const env = { AMPORA_BACKPLANE: 'inprocess', AMPORA_QUEUE: 'postgres', AMPORA_LIMITS_WINDOW_SECONDS: '60', AMPORA_LIMITS_AUTH_FAILURES_PER_IP: '3', AMPORA_LIMITS_AUTH_FAILURES_PER_TENANT: '5', AMPORA_LIMITS_ENROLMENTS_PER_IP: '0', AMPORA_LIMITS_ENROLMENTS_PER_TENANT: '2' };

function limiter(overrides: Record<string, string> = {}): { limiter: AbuseLimiter; clock: TestClock } {
  // the start of a window, so a test's minute does not cross into the next one
  const clock = new TestClock(Date.parse('2026-01-01T00:00:00Z'));
  const config: PlatformConfig = loadConfig({ ...env, ...overrides });
  return { limiter: new AbuseLimiter(config, {} as RedisService, clock), clock };
}

describe('abuse limits: fixed windows', () => {
  it('aligns windows on the epoch and answers Retry-After until their end', () => {
    expect(windowAt(125_000, 60)).toEqual({ index: 2, endsAt: 180_000 });
    expect(secondsUntil(180_000, 125_000)).toBe(55);
    expect(secondsUntil(180_000, 179_999)).toBe(1);
    expect(overLimit(3, 3)).toBe(false);
    expect(overLimit(4, 3)).toBe(true);
    expect(overLimit(1_000_000, 0)).toBe(false);
    expect(sourceAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('AbuseLimiter (in this process)', () => {
  it('refuses the attempt that passes a source limit and blocks the source until the window ends', async () => {
    const { limiter: l, clock } = limiter();
    for (let i = 0; i < 3; i++) expect(await l.count('auth_failure', { ip: '10.0.0.1' })).toBeUndefined();
    expect(l.throttled('auth_failure', { ip: '10.0.0.1' })).toBeUndefined();
    expect(await l.count('auth_failure', { ip: '10.0.0.1' })).toEqual({ limit: 'auth_failure', scope: 'ip', retryAfter: 60 });
    await clock.advance(20_000);
    expect(l.throttled('auth_failure', { ip: '::ffff:10.0.0.1' })).toEqual({ limit: 'auth_failure', scope: 'ip', retryAfter: 40 });
    expect(l.throttled('auth_failure', { ip: '10.0.0.2' })).toBeUndefined();
    expect(l.throttled('enrolment', { ip: '10.0.0.1' })).toBeUndefined();
    await clock.advance(40_000);
    expect(l.throttled('auth_failure', { ip: '10.0.0.1' })).toBeUndefined();
    expect(await l.count('auth_failure', { ip: '10.0.0.1' })).toBeUndefined();
  });

  it('lets a credential that authenticated from the source through its source block, not a new one', async () => {
    const { limiter: l } = limiter();
    l.vouch('known');
    for (let i = 0; i < 4; i++) await l.count('auth_failure', { ip: '10.0.0.1' });
    expect(l.throttled('auth_failure', { ip: '10.0.0.1', credential: 'known' })).toBeUndefined();
    expect(l.throttled('auth_failure', { ip: '10.0.0.1', credential: 'guess' })?.scope).toBe('ip');
  });

  it('counts a tenant apart from its sources, and a limit of 0 is off', async () => {
    const { limiter: l } = limiter();
    expect(await l.count('enrolment', { ip: '10.0.0.1', tenantId: 't1' })).toBeUndefined();
    expect(await l.count('enrolment', { ip: '10.0.0.2', tenantId: 't1' })).toBeUndefined();
    expect(await l.count('enrolment', { ip: '10.0.0.3', tenantId: 't1' })).toEqual({ limit: 'enrolment', scope: 'tenant', retryAfter: 60 });
    expect(l.throttled('enrolment', { tenantId: 't1' })?.scope).toBe('tenant');
    expect(l.throttled('enrolment', { tenantId: 't2' })).toBeUndefined();
    // no per-source enrolment limit in this configuration
    for (let i = 0; i < 50; i++) expect(await l.count('enrolment', { ip: '10.0.0.9' })).toBeUndefined();
    const off = limiter({ AMPORA_LIMITS_AUTH_FAILURES_PER_IP: '0', AMPORA_LIMITS_AUTH_FAILURES_PER_TENANT: '0' }).limiter;
    for (let i = 0; i < 50; i++) expect(await off.count('auth_failure', { ip: '10.0.0.1', tenantId: 't1' })).toBeUndefined();
  });

  it('defaults: 60 s windows, 120 enrolments and 30 refused credentials per source, 2000 and 300 per tenant', () => {
    expect(loadConfig({}).abuse).toEqual({ windowSeconds: 60, enrolmentsPerIp: 120, enrolmentsPerTenant: 2000, authFailuresPerIp: 30, authFailuresPerTenant: 300 });
  });
});
