import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AmporaConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { Principal } from '../context/request-context';
import { createLogger } from '../logging/logger';
import { LiveBus } from './live-bus';
import { LiveStream } from './live-stream';

/** The open Server-Sent Events streams of this instance (`GET /api/live`). */
@Injectable()
export class LiveStreamService implements OnModuleDestroy {
  private readonly log = createLogger('Ampora.Platform.Realtime.LiveStream');
  private readonly streams = new Set<LiveStream>();

  constructor(
    private readonly bus: LiveBus,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  open(principal: Principal, options: { types?: string[]; lastEventId?: string }, req: IncomingMessage, res: ServerResponse): void {
    const stream = new LiveStream(this.bus, principal, { ...options, capacity: this.config.live.subscriberBuffer }, req, res, this.log, (s) => this.streams.delete(s));
    this.streams.add(stream);
    stream.start();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Ends every stream, so the HTTP server can close and clients reconnect to another instance. */
  onModuleDestroy(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
