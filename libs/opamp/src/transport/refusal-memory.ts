import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, RedisService, STORM_BATCH_SPACING_MS, TurnBatch } from '@ampora/platform';
import { refusalDelaySeconds } from './refusal-policy';

/** A remembered refusal: until when the credential and source are refused at the upgrade. */
export interface RefusalBlock {
  /** Epoch milliseconds. */
  until: number;
  strikes: number;
}

const STRIKE_SCRIPT = `
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local d = math.min(tonumber(ARGV[2]) * 2 ^ math.min(n - 1, 30), tonumber(ARGV[3]))
local u = tonumber(ARGV[1]) + d * 1000
redis.call('HSET', KEYS[1], 'u', u)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {n, tostring(u)}
`;

/** At most this many refusal lookups in one Redis pipeline. */
const LOOKUPS_PER_BATCH = 200;

/**
 * Refused credentials, by credential and source (decision 0120). With the Redis backplane every
 * instance shares them (a refused agent that reconnects through another instance is still slowed
 * down); otherwise they are kept in this process. Failures of Redis never refuse anybody: the
 * memory is a brake, not a gate.
 *
 * Every upgrade asks, so in an enrolment or reconnect storm the lookups of the connections that
 * arrive together go in one pipeline (one write, one answer), at most one per STORM_BATCH_SPACING_MS
 * (decision 0443); a quiet instance's lookup still goes at the end of its turn.
 */
@Injectable()
export class RefusalMemory {
  private readonly log = createLogger('Ampora.OpAmp.RefusalMemory');
  private readonly local = new Map<string, RefusalBlock & { expires: number }>();
  private readonly shared: boolean;
  /** The shared blocks asked for together (decision 0443), by memory key; a key without strikes is left out. */
  private readonly lookups = new TurnBatch<string, RefusalBlock>({
    key: (key) => key,
    run: (keys) => this.lookUp(keys),
    max: LOOKUPS_PER_BATCH,
    spacingMs: STORM_BATCH_SPACING_MS,
  });

  constructor(
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly redis: RedisService,
    private readonly clock: Clock,
  ) {
    this.shared = config.dispatch.backplane === 'redis';
  }

  private get base(): number {
    return this.config.opamp.refusalBackoffSeconds;
  }

  private get max(): number {
    return this.config.opamp.refusalBackoffMaxSeconds;
  }

  /** Strikes are forgotten after this long without a new refusal. */
  private get memoryMs(): number {
    return this.max * 4 * 1000;
  }

  /** The block in force for `key` at `now`, if any. */
  async blocked(key: string, now = this.clock.nowMs()): Promise<RefusalBlock | undefined> {
    if (this.base <= 0) return undefined;
    if (!this.shared) {
      const entry = this.local.get(key);
      if (!entry || entry.expires <= now) return undefined;
      return entry.until > now ? { until: entry.until, strikes: entry.strikes } : undefined;
    }
    try {
      const block = await this.lookups.ask(key);
      return block && block.until > now ? block : undefined;
    } catch (error) {
      this.log.debug('Refusal memory unavailable: {Error}', { Error: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /** Records one more refusal of `key`; returns the block it now has. */
  async strike(key: string, now = this.clock.nowMs()): Promise<RefusalBlock> {
    if (this.base <= 0) return { until: now, strikes: 0 };
    if (!this.shared) {
      const previous = this.local.get(key);
      const strikes = (previous && previous.expires > now ? previous.strikes : 0) + 1;
      const until = now + refusalDelaySeconds(strikes, this.base, this.max) * 1000;
      if (this.local.size >= 50_000) {
        // forget the expired, then the oldest: never everything at once (a flood of random credentials
        // must not wipe the back-off of the agents already refused)
        for (const [k, v] of this.local) if (v.expires <= now) this.local.delete(k);
        for (const k of this.local.keys()) {
          if (this.local.size < 45_000) break;
          this.local.delete(k);
        }
      }
      this.local.delete(key); // re-inserted last: the newest
      this.local.set(key, { strikes, until, expires: now + this.memoryMs });
      return { strikes, until };
    }
    try {
      const [n, u] = (await this.redis.client().eval(STRIKE_SCRIPT, 1, this.redisKey(key), String(now), String(this.base), String(this.max), String(this.memoryMs))) as [number, string];
      return { strikes: Number(n), until: Number(u) };
    } catch (error) {
      this.log.debug('Refusal memory unavailable: {Error}', { Error: error instanceof Error ? error.message : String(error) });
      return { strikes: 1, until: now + refusalDelaySeconds(1, this.base, this.max) * 1000 };
    }
  }

  /** Lookup batches sent to Redis so far (each one pipeline). */
  get lookupBatches(): number {
    return this.lookups.batches;
  }

  /** The strikes of `keys` in one pipeline; a failed reply fails the batch (every lookup of it lets its connection in). */
  private async lookUp(keys: string[]): Promise<Map<string, RefusalBlock>> {
    const pipeline = this.redis.client().pipeline();
    for (const key of keys) pipeline.hmget(this.redisKey(key), 'n', 'u');
    const replies = (await pipeline.exec()) ?? [];
    const blocks = new Map<string, RefusalBlock>();
    keys.forEach((key, i) => {
      const [error, value] = replies[i] ?? [new Error('Redis gave no reply'), null];
      if (error) throw error;
      const [n, u] = value as [string | null, string | null];
      if (n && u) blocks.set(key, { until: Number(u), strikes: Number(n) });
    });
    return blocks;
  }

  private redisKey(key: string): string {
    return `${this.redis.prefix}:opamp:refused:${key}`;
  }
}
