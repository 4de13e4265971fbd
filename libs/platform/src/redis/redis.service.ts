import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';

/** ioredis options from REDIS_URL. */
export function redisOptions(url: string, extra: RedisOptions = {}): RedisOptions & { url: string } {
  return { url, lazyConnect: true, connectTimeout: 5000, ...extra };
}

/**
 * Redis connections owned by this process (commands, and one per subscriber). Created lazily, so a
 * deployment that uses no Redis (embedded, PostgreSQL-only) never connects.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private command?: Redis;
  private readonly extra = new Set<Redis>();

  constructor(@Inject(AMPORA_CONFIG) private readonly config: PlatformConfig) {}

  /** Prefix for every key and channel this deployment uses in Redis. */
  get prefix(): string {
    return this.config.redis.keyPrefix;
  }

  /**
   * The shared command connection. Commands issued in one turn of the event loop travel as one write
   * (ioredis auto-pipelining, decision 0425): a reconnect storm asks for a refusal record and publishes
   * live events for hundreds of agents per turn.
   */
  client(): Redis {
    this.command ??= new Redis(this.config.redis.url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true, connectTimeout: 5000, enableAutoPipelining: true });
    return this.command;
  }

  /** A new dedicated connection (subscribers need their own); closed with the app. */
  duplicate(options: RedisOptions = {}): Redis {
    const conn = new Redis(this.config.redis.url, { maxRetriesPerRequest: null, connectTimeout: 5000, ...options });
    this.extra.add(conn);
    return conn;
  }

  /** PING with a deadline; throws when Redis does not answer. */
  async ping(timeoutMs = 2000): Promise<void> {
    const probe = new Redis(this.config.redis.url, { lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, connectTimeout: timeoutMs, retryStrategy: () => null });
    try {
      await withTimeout(probe.connect().then(() => probe.ping()), timeoutMs, 'Redis did not answer');
    } finally {
      probe.disconnect();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [this.command, ...this.extra].filter((c): c is Redis => Boolean(c));
    await Promise.allSettled(all.map((c) => c.quit().catch(() => c.disconnect())));
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
      timer.unref();
    }),
  ]);
}
