import { Inject, Injectable } from '@nestjs/common';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { Clock } from '../clock/clock';
import { TenantLabels } from '../context/tenant-labels';
import { createLogger } from '../logging/logger';
import { RedisService, withTimeout } from '../redis/redis.service';
import { Metrics } from '../telemetry/catalogue';
import { overLimit, secondsUntil, sourceAddress, windowAt } from './domain/fixed-window';

/** What is limited: enrolment attempts (bootstrap tokens) and refused credentials (decision 0290). */
export type AbuseLimit = 'enrolment' | 'auth_failure';
export type AbuseScope = 'ip' | 'tenant';

/** Who made an attempt: its source address and, when known, the tenant its credential belongs to. */
export interface AbuseSubject {
  ip?: string;
  tenantId?: string;
  /**
   * A digest of the credential and source: one that authenticated recently (see `vouch`) is not held
   * up by a block of its source, so agents and operators behind the address of a brute force keep
   * working. Never the credential itself.
   */
  credential?: string;
}

/** An attempt refused by a limit: answer 429 with `Retry-After: retryAfter`. */
export interface Throttle {
  limit: AbuseLimit;
  scope: AbuseScope;
  retryAfter: number;
}

const MAX_ENTRIES = 100_000;

/**
 * Per-source and per-tenant abuse limits, shared by every instance (decision 0290). Counting happens
 * only for the attempts that count (a new enrolment, a refused credential), one Redis round trip each
 * (INCR of the window's key); the check before an attempt is a lookup in this process's memory of the
 * blocks it has seen, so the hot path (an agent's poll, an operator's request) costs no I/O. An
 * instance learns of a block other instances counted at its own next counted attempt from that
 * source, so a brute force spread over N instances gets at most N - 1 extra attempts per window.
 * Without Redis (embedded mode) or while it is away, this process counts on its own.
 */
@Injectable()
export class AbuseLimiter {
  private readonly log = createLogger('Ampora.Platform.AbuseLimiter');
  private readonly blocks = new Map<string, number>();
  private readonly local = new Map<string, { index: number; count: number }>();
  private readonly vouched = new Map<string, number>();
  private readonly shared: boolean;

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
    private readonly redis: RedisService,
    private readonly clock: Clock,
  ) {
    this.shared = config.dispatch.backplane === 'redis' || config.queue.kind === 'redis';
  }

  /** The block in force for this subject, if any (memory only; counts a refusal when there is one). */
  throttled(limit: AbuseLimit, subject: AbuseSubject): Throttle | undefined {
    if (this.blocks.size === 0) return undefined;
    const now = this.clock.nowMs();
    for (const [scope, id] of this.scopes(limit, subject)) {
      if (scope === 'ip' && subject.credential && (this.vouched.get(subject.credential) ?? 0) > now) continue;
      const key = blockKey(limit, scope, id);
      const until = this.blocks.get(key);
      if (until === undefined) continue;
      if (until <= now) {
        this.blocks.delete(key);
        continue;
      }
      return this.refuse({ limit, scope, retryAfter: secondsUntil(until, now) }, subject.tenantId);
    }
    return undefined;
  }

  /**
   * Counts one attempt against the subject's source and tenant; when that puts either over its limit
   * the source (or tenant) is blocked until the window ends and the attempt is refused.
   */
  async count(limit: AbuseLimit, subject: AbuseSubject): Promise<Throttle | undefined> {
    const scopes = this.scopes(limit, subject);
    if (scopes.length === 0) return undefined;
    const now = this.clock.nowMs();
    const window = windowAt(now, this.config.abuse.windowSeconds);
    const counts = await Promise.all(scopes.map(([scope, id]) => this.increment(`${limit}:${scope}:${id}`, window.index, now)));
    let throttle: Throttle | undefined;
    scopes.forEach(([scope, id], i) => {
      if (!overLimit(counts[i]!, this.max(limit, scope))) return;
      this.block(blockKey(limit, scope, id), window.endsAt);
      throttle ??= { limit, scope, retryAfter: secondsUntil(window.endsAt, now) };
    });
    return throttle ? this.refuse(throttle, subject.tenantId) : undefined;
  }

  /** A credential authenticated from its source: a block of the source does not hold it up (see AbuseSubject). */
  vouch(credential: string): void {
    const now = this.clock.nowMs();
    const ttl = Math.max(600, this.config.abuse.windowSeconds * 10) * 1000;
    const until = this.vouched.get(credential);
    if (until !== undefined && until - now > ttl / 2) return; // fresh enough: no write on the hot path
    this.vouched.delete(credential);
    this.vouched.set(credential, now + ttl);
    trim(this.vouched, now);
  }

  /** The scopes of an attempt that have a limit, with their ids. */
  private scopes(limit: AbuseLimit, subject: AbuseSubject): Array<[AbuseScope, string]> {
    const scopes: Array<[AbuseScope, string]> = [];
    if (subject.ip !== undefined && this.max(limit, 'ip') > 0) scopes.push(['ip', sourceAddress(subject.ip)]);
    if (subject.tenantId && this.max(limit, 'tenant') > 0) scopes.push(['tenant', subject.tenantId]);
    return scopes;
  }

  private max(limit: AbuseLimit, scope: AbuseScope): number {
    const a = this.config.abuse;
    if (limit === 'enrolment') return scope === 'ip' ? a.enrolmentsPerIp : a.enrolmentsPerTenant;
    return scope === 'ip' ? a.authFailuresPerIp : a.authFailuresPerTenant;
  }

  private block(key: string, until: number): void {
    this.blocks.delete(key);
    this.blocks.set(key, until);
    trim(this.blocks, this.clock.nowMs());
  }

  private refuse(throttle: Throttle, tenantId: string | undefined): Throttle {
    Metrics.add('ampora_abuse_limited_total', 1, { tenant: TenantLabels.of(tenantId), limit: throttle.limit, scope: throttle.scope });
    return throttle;
  }

  /** The window's count after this attempt: in Redis (shared), else (or when Redis fails) in this process. */
  private async increment(counter: string, index: number, now: number): Promise<number> {
    if (this.shared) {
      const key = `${this.redis.prefix}:limits:${counter}:${index}`;
      try {
        const replies = await withTimeout(this.redis.client().multi().incr(key).pexpire(key, this.config.abuse.windowSeconds * 1000 + 5000).exec(), 1000, 'Redis did not answer');
        const [error, value] = replies?.[0] ?? [new Error('no reply'), null];
        if (error) throw error;
        return Number(value);
      } catch (error) {
        this.log.debug('Abuse limit counters unavailable, counting locally: {Error}', { Error: error instanceof Error ? error.message : String(error) });
      }
    }
    const entry = this.local.get(counter);
    if (entry && entry.index === index) return ++entry.count;
    this.local.delete(counter);
    this.local.set(counter, { index, count: 1 });
    if (this.local.size > MAX_ENTRIES) {
      // the counters of past windows first, then the oldest: never everything at once
      for (const [k, v] of this.local) if (v.index !== index) this.local.delete(k);
      for (const k of this.local.keys()) {
        if (this.local.size < MAX_ENTRIES * 0.9) break;
        this.local.delete(k);
      }
    }
    return 1;
  }
}

function blockKey(limit: AbuseLimit, scope: AbuseScope, id: string): string {
  return `${limit}|${scope}|${id}`;
}

/** Keeps a map of expiries bounded: the expired go first, then the oldest (never all at once). */
function trim(map: Map<string, number>, now: number): void {
  if (map.size <= MAX_ENTRIES) return;
  for (const [k, until] of map) if (until <= now) map.delete(k);
  for (const k of map.keys()) {
    if (map.size < MAX_ENTRIES * 0.9) break;
    map.delete(k);
  }
}
