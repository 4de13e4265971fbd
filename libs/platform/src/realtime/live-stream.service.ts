import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { AccessPolicy } from '../auth/access-policy';
import { Principal } from '../context/request-context';
import { createLogger } from '../logging/logger';
import { LiveBus } from './live-bus';
import { LiveStream } from './live-stream';

/**
 * The open Server-Sent Events streams of this instance (`GET /api/live`). The credentials of each
 * stream are checked again every `reauthIntervalMs`: a revoked or expired token's stream ends.
 */
@Injectable()
export class LiveStreamService implements OnModuleDestroy {
  private readonly log = createLogger('Ampora.Platform.Realtime.LiveStream');
  private readonly streams = new Set<LiveStream>();
  reauthIntervalMs = 60_000;

  constructor(
    private readonly bus: LiveBus,
    private readonly access: AccessPolicy,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  open(principal: Principal, options: { types?: string[]; lastEventId?: string }, req: IncomingMessage, res: ServerResponse): void {
    const authorization = req.headers.authorization;
    const stream = new LiveStream(
      this.bus,
      principal,
      { ...options, capacity: this.config.live.subscriberBuffer, reauthIntervalMs: this.reauthIntervalMs, stillAuthorized: () => this.stillAuthorized(authorization) },
      req,
      res,
      this.log,
      (s) => this.streams.delete(s),
    );
    this.streams.add(stream);
    stream.start();
  }

  /** False when the bearer token is no longer valid (revoked, expired); errors count as valid. */
  private async stillAuthorized(authorization: string | undefined): Promise<boolean> {
    try {
      return (await this.access.authenticate(authorization)).ok;
    } catch (error) {
      this.log.debug('Could not check a live stream\'s token again: {Error}', { Error: error instanceof Error ? error.message : String(error) });
      return true;
    }
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every stream, so the HTTP server can close and clients reconnect to another instance. */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }

  onModuleDestroy(): void {
    this.closeAll();
  }
}
