import type { IncomingMessage, ServerResponse } from 'node:http';
import { Principal } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { Logger } from '../logging/logger';
import { Metrics } from '../telemetry/catalogue';
import { DropOldestQueue } from './drop-oldest-queue';
import { LiveBus } from './live-bus';
import { DomainEvent, liveFrameData, LiveStreamEvent, LiveStreamEvents, PublishedLiveEvent } from './live-event';

/** Milliseconds between keep-alive comments on an idle stream (proxies close silent connections). */
export const KEEP_ALIVE_MS = 15_000;
/** What EventSource clients wait before reconnecting. */
const RETRY_MS = 3000;

/** `types=` entries: exact (`agent.connected`), a prefix (`agent.*`) or everything (`*`). */
export function typeMatcher(patterns: string[] | undefined): (type: string) => boolean {
  if (!patterns?.length || patterns.includes('*')) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith('.*')));
  const prefixes = patterns.filter((p) => p.endsWith('.*')).map((p) => p.slice(0, -1));
  return (type) => exact.has(type) || prefixes.some((p) => type.startsWith(p));
}

/** One line of JSON per `data:`, so no event can break the framing. */
function frame(event: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A control frame of the stream (typed: name and payload of LiveStreamEvent). */
function controlFrame<N extends LiveStreamEvent['type']>(type: N, data: Extract<LiveStreamEvent, { type: N }>['payload']): string {
  return frame(type, data);
}

export interface LiveStreamOptions {
  types?: string[];
  lastEventId?: string;
  capacity: number;
  /** How often the caller's credentials are checked again, and how. */
  reauthIntervalMs: number;
  stillAuthorized: () => Promise<boolean>;
}

/**
 * One operator's Server-Sent Events stream: the bus events of the caller's tenant (filtered by
 * type), replayed from `Last-Event-ID` first when possible. Events wait in a bounded queue while the
 * connection cannot take more; when the queue is full the oldest waiting event is dropped, counted,
 * and the subscriber gets a `dropped` event with the count before the next event it receives. Other
 * subscribers and the publisher are never slowed down.
 */
export class LiveStream {
  readonly subscriber: string;
  private readonly queue: DropOldestQueue<PublishedLiveEvent>;
  private readonly matches: (e: PublishedLiveEvent) => boolean;
  private readonly tenantLabel: string;
  private waitingForDrain = false;
  private closed = false;
  private unsubscribe?: () => void;
  private keepAlive?: NodeJS.Timeout;
  private reauth?: NodeJS.Timeout;
  private lastDelivered?: string;
  private lastDropLog = 0;
  /** Totals of this stream, for diagnostics. */
  readonly totals = { sent: 0, dropped: 0 };

  constructor(
    private readonly bus: LiveBus,
    private readonly principal: Principal,
    private readonly options: LiveStreamOptions,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly log: Logger,
    private readonly onClose: (stream: LiveStream) => void,
  ) {
    this.subscriber = `sse:${principal.actor}`;
    this.queue = new DropOldestQueue(options.capacity);
    this.tenantLabel = TenantLabels.of(principal.tenantId);
    const typeOk = typeMatcher(options.types);
    this.matches = (e) => e.tenantId === principal.tenantId && typeOk(e.type);
  }

  start(): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.res.write(`retry: ${RETRY_MS}\n: connected\n\n`);
    this.res.socket?.setNoDelay(true);
    // replay and subscription in one synchronous block: no event can fall between them
    if (this.options.lastEventId) {
      const replay = this.bus.replay(this.principal.tenantId, this.options.lastEventId);
      if (replay.complete) for (const e of replay.events) if (this.matches(e)) this.enqueue(e);
      if (!replay.complete) this.res.write(controlFrame(LiveStreamEvents.Reset, { reason: replay.reason, lastEventId: this.options.lastEventId }));
    }
    this.unsubscribe = this.bus.subscribe((e) => this.enqueue(e), { name: this.subscriber, filter: this.matches });
    this.keepAlive = setInterval(() => {
      if (!this.waitingForDrain && !this.closed) this.res.write(': keep-alive\n\n');
    }, KEEP_ALIVE_MS);
    this.keepAlive.unref();
    this.reauth = setInterval(() => {
      void this.options.stillAuthorized().then((ok) => {
        if (ok || this.closed) return;
        this.log.info('Ended the live stream of {Subscriber}: its token is no longer valid', { Subscriber: this.subscriber });
        this.close();
      });
    }, this.options.reauthIntervalMs);
    this.reauth.unref();
    this.req.once('close', () => this.close());
    this.res.once('error', () => this.close());
    this.log.debug('Live stream opened for {Subscriber} (types {Types})', { Subscriber: this.subscriber, Types: this.options.types?.join(',') ?? '*' });
    this.pump();
  }

  /** Ends the stream (client gone, or the server shutting down). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.keepAlive);
    clearInterval(this.reauth);
    if (!this.res.writableEnded) this.res.end();
    this.log.debug('Live stream of {Subscriber} closed after {Sent} events ({Dropped} dropped)', { Subscriber: this.subscriber, Sent: this.totals.sent, Dropped: this.totals.dropped });
    this.onClose(this);
  }

  private enqueue(event: PublishedLiveEvent): void {
    if (this.closed) return;
    if (this.queue.push(event)) {
      this.totals.dropped += 1;
      Metrics.add('ampora_live_bus_dropped_total', 1, { tenant: this.tenantLabel, subscriber: this.subscriber });
    }
    if (!this.waitingForDrain) this.pump();
  }

  /** Writes what is queued until the connection pushes back. */
  private pump(): void {
    while (!this.closed && !this.waitingForDrain) {
      const dropped = this.queue.takeDropped();
      if (dropped > 0) {
        this.logDrop(dropped);
        if (!this.write(controlFrame(LiveStreamEvents.Dropped, { count: dropped, lastEventId: this.lastDelivered ?? null }))) break;
      }
      const event = this.queue.shift();
      if (!event) break;
      this.lastDelivered = event.id;
      this.totals.sent += 1;
      // every lib's events (the stream is not typed to one union): the frame's fields are the same for all
      if (!this.write(frame(event.type, liveFrameData<DomainEvent>(event), event.id))) break;
    }
  }

  private write(text: string): boolean {
    if (this.res.write(text)) return true;
    this.waitingForDrain = true;
    this.res.once('drain', () => {
      this.waitingForDrain = false;
      this.pump();
    });
    return false;
  }

  private logDrop(count: number): void {
    if (Date.now() - this.lastDropLog < 10_000) return;
    this.lastDropLog = Date.now();
    this.log.warn('Live subscriber {Subscriber} reads too slowly: {Count} events dropped for it', { Subscriber: this.subscriber, Count: count });
  }
}
