import type Redis from 'ioredis';
import { PlatformConfig } from '../config/ampora-config';
import { RedisService } from '../redis/redis.service';
import { Backplane } from './backplane';

/** How long start-up waits for the subscription before going on (readiness reports the rest). */
const SUBSCRIBE_WAIT_MS = 5000;

/**
 * Redis pub/sub: `<prefix>:backplane:instance:<id>` per instance and `<prefix>:backplane:broadcast`.
 * One dedicated subscriber connection (ioredis subscribes again after a reconnect); publishing
 * uses the shared command connection.
 */
export class RedisBackplane extends Backplane {
  readonly kind = 'redis' as const;
  private subscriber?: Redis;
  private readonly own: string;
  private readonly all: string;

  constructor(
    config: PlatformConfig,
    private readonly redis: RedisService,
  ) {
    super(config, 'Ampora.Platform.Backplane.Redis');
    this.own = RedisBackplane.instanceChannel(redis.prefix, this.instanceId);
    this.all = `${redis.prefix}:backplane:broadcast`;
  }

  static instanceChannel(prefix: string, instanceId: string): string {
    return `${prefix}:backplane:instance:${instanceId}`;
  }

  async start(): Promise<void> {
    const sub = this.redis.duplicate();
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => this.receive(message, channel === this.own));
    sub.on('error', (error: Error) => this.log.debug('Backplane subscriber connection: {Error}', { Error: error.message }));
    const subscribed = sub.subscribe(this.own, this.all).then(() => true);
    subscribed.catch((error: unknown) => this.log.error('Subscribing to the backplane channels failed', {}, error));
    const ready = await Promise.race([subscribed.catch(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), SUBSCRIBE_WAIT_MS).unref())]);
    if (!ready) this.log.warn('The Redis backplane is not subscribed yet; this instance receives nothing until Redis answers');
    else this.log.debug('Listening on {Channel}', { Channel: this.own });
  }

  async stop(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  protected async transmit(instanceId: string | null, data: string): Promise<void> {
    const channel = instanceId === null ? this.all : RedisBackplane.instanceChannel(this.redis.prefix, instanceId);
    await this.redis.client().publish(channel, data);
  }
}
