import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Metrics, RedisService, secondsUntil, TenantLabels, TimerHandle, withTimeout } from '@ampora/platform';
import type { AgentSession } from '../core/agent-session';
import { SessionRegistry } from '../core/session-registry';

/**
 * Takes a seat for `member` in the tenant's sorted set (score: when the seat expires): expired seats
 * are dropped first; a member that already has a seat keeps it (a reconnect is never refused); a new
 * one gets a seat while fewer than the cap are taken. Returns 1, or 0 and the earliest expiry.
 */
const RESERVE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[4]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return {1, '0'}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, first[2] or ARGV[2]}
`;

/** A refused seat: the tenant has `cap` sessions; one frees up at the latest by `retryAfter` seconds. */
export interface SeatRefusal {
  retryAfter: number;
  cap: number;
}

/**
 * The cap on concurrent OpAMP sessions per tenant (AMPORA_LIMITS_SESSIONS_PER_TENANT, decision 0290),
 * over every instance: each session (and each admitted connection that has not sent its first frame
 * yet) holds a seat named by its credential (a bootstrap token makes one agent, a certificate is one
 * agent) in a Redis sorted set per tenant, scored by when the seat expires. Seats are renewed with the
 * session leases' rhythm (a third of AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS), given back when a session
 * ends, and expire on their own when an instance dies, so its agents find their seats when they
 * reconnect elsewhere. An HTTP agent's poll asks Redis only when its seat is due for renewal. Without
 * Redis (embedded) the seats are this process's; when Redis fails, nobody is refused (a brake, not a gate).
 */
@Injectable()
export class TenantSessionCap implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.TenantSessionCap');
  /** Seats this process took or renewed: member → expiry (ms), per tenant. */
  private readonly seats = new Map<string, Map<string, number>>();
  private readonly shared: boolean;
  private readonly ttlMs: number;
  private timer?: TimerHandle;

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly redis: RedisService,
    private readonly registry: SessionRegistry,
    private readonly clock: Clock,
  ) {
    this.shared = config.dispatch.backplane === 'redis';
    this.ttlMs = config.dispatch.ownershipTtlSeconds * 1000;
  }

  private get cap(): number {
    return this.config.opamp.sessionsPerTenant;
  }

  onModuleInit(): void {
    if (this.cap <= 0) return;
    this.registry.onLifecycle({
      opened: () => undefined,
      closed: (session, info) => {
        // a superseded session's agent holds the seat from its newer session elsewhere
        if (!info.replaced && !session.superseded) void this.release(session.tenantId, session.credentialKey);
      },
    });
    this.timer = this.clock.setInterval(() => void this.renew(), Math.max(500, this.ttlMs / 3)).unref();
  }

  onModuleDestroy(): void {
    this.timer?.cancel();
  }

  /** Takes (or keeps) a seat for `member` in `tenantId`; a refusal when the tenant's sessions are at the cap. */
  async reserve(tenantId: string, member: string): Promise<SeatRefusal | undefined> {
    if (this.cap <= 0) return undefined;
    const now = this.clock.nowMs();
    const mine = this.tenantSeats(tenantId);
    const held = mine.get(member);
    if (held !== undefined && held - now > this.ttlMs / 2) return undefined; // renewed recently: no I/O
    const expires = now + this.ttlMs;
    const refusal = this.shared ? await this.reserveShared(tenantId, member, now, expires) : this.reserveLocal(mine, member, now);
    if (refusal) {
      Metrics.add('ampora_abuse_limited_total', 1, { tenant: TenantLabels.of(tenantId), limit: 'sessions', scope: 'tenant' });
      return refusal;
    }
    mine.set(member, expires);
    return undefined;
  }

  private reserveLocal(mine: Map<string, number>, member: string, now: number): SeatRefusal | undefined {
    let earliest = Infinity;
    for (const [m, until] of mine) {
      if (until <= now) mine.delete(m);
      else earliest = Math.min(earliest, until);
    }
    if (mine.has(member) || mine.size < this.cap) return undefined;
    return { cap: this.cap, retryAfter: secondsUntil(earliest, now) };
  }

  private async reserveShared(tenantId: string, member: string, now: number, expires: number): Promise<SeatRefusal | undefined> {
    try {
      const [ok, first] = (await withTimeout(this.redis.client().eval(RESERVE_SCRIPT, 1, this.key(tenantId), String(now), String(expires), member, String(this.cap), String(this.ttlMs * 2)), 1000, 'Redis did not answer')) as [number, string];
      return ok === 1 ? undefined : { cap: this.cap, retryAfter: secondsUntil(Number(first), now) };
    } catch (error) {
      this.log.debug('Session seats unavailable; admitting: {Error}', { Error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /**
   * Renews the seats of this instance's sessions (and puts them back after a Redis restart); forgets
   * the seats of connections that never became one.
   */
  async renew(): Promise<void> {
    const now = this.clock.nowMs();
    const expires = now + this.ttlMs;
    const live = new Map<string, string[]>();
    for (const s of this.registry.all() as IterableIterator<AgentSession>) {
      if (s.closed) continue;
      const members = live.get(s.tenantId) ?? [];
      members.push(s.credentialKey);
      live.set(s.tenantId, members);
    }
    for (const [tenantId, mine] of this.seats) {
      for (const [m, until] of mine) if (until <= now) mine.delete(m);
      if (mine.size === 0 && !live.has(tenantId)) this.seats.delete(tenantId);
    }
    for (const [tenantId, members] of live) {
      const mine = this.tenantSeats(tenantId);
      for (const m of members) mine.set(m, expires);
    }
    if (!this.shared || live.size === 0) return;
    try {
      const pipeline = this.redis.client().pipeline();
      for (const [tenantId, members] of live) {
        for (let i = 0; i < members.length; i += 1000) pipeline.zadd(this.key(tenantId), ...members.slice(i, i + 1000).flatMap((m) => [expires, m]));
        pipeline.pexpire(this.key(tenantId), this.ttlMs * 2);
      }
      await withTimeout(pipeline.exec(), 5000, 'Redis did not answer');
    } catch (error) {
      this.log.debug('Renewing session seats failed: {Error}', { Error: error instanceof Error ? error.message : String(error) });
    }
  }

  private async release(tenantId: string, member: string): Promise<void> {
    this.seats.get(tenantId)?.delete(member);
    if (!this.shared) return;
    try {
      await withTimeout(this.redis.client().zrem(this.key(tenantId), member), 1000, 'Redis did not answer');
    } catch (error) {
      this.log.debug('Giving a session seat back failed (it expires on its own): {Error}', { Error: error instanceof Error ? error.message : String(error) });
    }
  }

  private tenantSeats(tenantId: string): Map<string, number> {
    let mine = this.seats.get(tenantId);
    if (!mine) this.seats.set(tenantId, (mine = new Map()));
    return mine;
  }

  private key(tenantId: string): string {
    return `${this.redis.prefix}:opamp:seats:${tenantId}`;
  }
}
