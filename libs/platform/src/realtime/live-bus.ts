import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Backplane } from '../backplane/backplane';
import { BatchSpacing, STORM_BATCH_SPACING_MS } from '../batching/batch-spacing';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { RequestContext } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { createLogger } from '../logging/logger';
import { Metrics } from '../telemetry/catalogue';
import { extractTraceContext, injectTraceContext, SpanKind, withSpanSync } from '../telemetry/tracing';
import { DeliveredEvent, DomainEvent, LiveEvent, liveEventId, PublishableEvent, PublishedLiveEvent } from './live-event';
import { ReplayHistory, ReplayResult } from './replay-history';

export { LiveEvent, PublishedLiveEvent } from './live-event';

export type LiveListener = (event: PublishedLiveEvent) => void;

/** A listener typed against a lib's event union `E`, for the members named `N` (payload typed). */
export type TypedLiveListener<E extends DomainEvent, N extends E['type'] = E['type']> = (event: DeliveredEvent<Extract<E, { type: N }>>) => void;

export interface TypedSubscriptionOptions<E extends DomainEvent, N extends E['type'] = E['type']> {
  /** Names the subscriber in spans (`live_update.consume`) and metrics. */
  name: string;
  /** Among the named types, only events for which this returns true are delivered. */
  filter?: (event: DeliveredEvent<Extract<E, { type: N }>>) => boolean;
}

export interface LiveSubscriptionOptions {
  /** Names the subscriber in spans (`live_update.consume`) and metrics; `anonymous` by default. */
  name?: string;
  /** Only events for which this returns true are delivered (and counted as consumed). */
  filter?: (event: PublishedLiveEvent) => boolean;
}

/** The backplane topic that carries one bus event (still received, from instances of earlier releases). */
export const LIVE_TOPIC = 'live';
/** The backplane topic that carries the bus events one instance published in one turn of its event loop, in order. */
export const LIVE_BATCH_TOPIC = 'live.batch';
/** At most this many events travel in one backplane message. */
export const LIVE_BATCH_MAX = 200;

interface Subscription {
  listener: LiveListener;
  name: string;
  filter?: (event: PublishedLiveEvent) => boolean;
}

/**
 * The live-update bus. `publish` delivers to this process's subscribers at once and broadcasts the
 * event over the backplane, so every server and worker of the deployment delivers it to theirs: a
 * subscriber sees the events of every instance. Each event gets an id ordered by publish time, the
 * publishing instance and the trace context of its `live_update.publish` span, which the
 * `live_update.consume` spans of every subscriber (on any instance) continue. The last events of
 * each tenant are kept for subscribers that resume with `Last-Event-ID`.
 */
@Injectable()
export class LiveBus implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Platform.Realtime.LiveBus');
  private readonly subscriptions = new Set<Subscription>();
  private readonly history: ReplayHistory;
  private readonly node = randomBytes(3).toString('hex');
  private readonly instanceId: string;
  private seq = 0;
  private lastBroadcastWarning = 0;
  private stopListening?: () => void;
  private stopListeningBatches?: () => void;
  /** Events published in this turn of the event loop, broadcast together when it ends (decision 0421). */
  private outgoing: PublishedLiveEvent[] = [];
  /** When the last backplane message went, and the timer of one held back (decision 0442). */
  private readonly spacing = new BatchSpacing(STORM_BATCH_SPACING_MS);
  private flushScheduled?: NodeJS.Immediate;

  constructor(
    private readonly backplane: Backplane,
    @Inject(AMPORA_CONFIG) config: PlatformConfig,
  ) {
    this.instanceId = config.app.instanceId;
    this.history = new ReplayHistory(config.live.replayEvents, config.live.replaySeconds * 1000);
  }

  onModuleInit(): void {
    this.stopListening = this.backplane.on(LIVE_TOPIC, (body) => this.fromBackplane(body));
    this.stopListeningBatches = this.backplane.on(LIVE_BATCH_TOPIC, (body) => {
      if (!Array.isArray(body)) return void this.log.warn('Ignored a malformed live event batch from the backplane');
      for (const event of body) this.fromBackplane(event);
    });
  }

  onModuleDestroy(): void {
    this.flush(true);
    this.stopListening?.();
    this.stopListeningBatches?.();
  }

  /** Publishes an event to every subscriber of the deployment; returns it as delivered. */
  publish<E extends DomainEvent = DomainEvent>(typed: PublishableEvent<E>): DeliveredEvent<E> {
    const event = typed as unknown as LiveEvent;
    return this.publishAny(event) as unknown as DeliveredEvent<E>;
  }

  private publishAny<T>(event: LiveEvent<T>): PublishedLiveEvent<T> {
    const tenant = TenantLabels.of(event.tenantId);
    return withSpanSync(
      'live_update.publish',
      { kind: SpanKind.PRODUCER, attributes: { 'event.type': event.type, tenant }, parent: event.trace ? extractTraceContext(event.trace) : undefined },
      () => {
        const now = Date.now();
        const full: PublishedLiveEvent<T> = {
          type: event.type,
          tenantId: event.tenantId,
          entityId: event.entityId,
          payload: event.payload,
          id: event.id ?? liveEventId(now, this.node, this.seq++),
          at: event.at ?? new Date(now).toISOString(),
          origin: event.origin ?? this.instanceId,
          trace: injectTraceContext(),
        };
        Metrics.add('ampora_live_bus_events_total', 1, { tenant, event_type: full.type, direction: 'published' });
        this.deliver(full);
        this.outgoing.push(full);
        if (this.outgoing.length >= LIVE_BATCH_MAX) this.flush(true);
        else this.flushScheduled ??= setImmediate(() => this.flush());
        return full;
      },
    );
  }

  /**
   * An in-process listener typed against a lib's event union `E` (`bus.on<FleetEvent>([FleetEvents.
   * AgentsForgotten], (e) => ...)`): it receives, from every instance, only the events whose type is
   * one of `types`, narrowed to those members of the union. Returns the unsubscribe function.
   */
  on<E extends DomainEvent, N extends E['type'] = E['type']>(types: readonly N[], listener: TypedLiveListener<E, N>, options: TypedSubscriptionOptions<E, N>): () => void {
    const wanted = new Set<string>(types);
    const narrowed = (event: PublishedLiveEvent) => event as unknown as DeliveredEvent<Extract<E, { type: N }>>;
    const filter = options.filter;
    return this.subscribe((event) => listener(narrowed(event)), {
      name: options.name,
      filter: (event) => wanted.has(event.type) && (!filter || filter(narrowed(event))),
    });
  }

  /**
   * Subscribes to every event of every instance, whatever lib published it (the SSE stream does);
   * reactions of a lib listen with `on`, typed. Returns the unsubscribe function.
   */
  subscribe(listener: LiveListener, options: LiveSubscriptionOptions = {}): () => void {
    const subscription: Subscription = { listener, name: options.name ?? 'anonymous', filter: options.filter };
    this.subscriptions.add(subscription);
    return () => this.subscriptions.delete(subscription);
  }

  /** The events of a tenant published after `lastEventId`, if this instance still knows them all. */
  replay(tenantId: string, lastEventId: string): ReplayResult {
    return this.history.since(tenantId, lastEventId);
  }

  get subscriberCount(): number {
    return this.subscriptions.size;
  }

  /**
   * Broadcasts the events published since the last flush as one backplane message (one seal, one
   * publish): an enrolment or reconnect storm publishes an event or two per agent, and one message
   * each cost more of the instance's time than the agents' own frames (decision 0421). A message goes
   * at most once per STORM_BATCH_SPACING_MS unless `now` (a full batch, the shutdown): in a storm, where
   * each turn publishes for one agent, what comes meanwhile goes in the next one (decision 0442).
   */
  private flush(now = false): void {
    if (this.flushScheduled) clearImmediate(this.flushScheduled);
    this.flushScheduled = undefined;
    if (this.outgoing.length === 0) return;
    if (!now && this.spacing.holds(() => this.flush())) return;
    this.spacing.sent();
    const batch = this.outgoing;
    this.outgoing = [];
    this.backplane.broadcast(LIVE_BATCH_TOPIC, batch).catch((error: unknown) => {
      if (Date.now() - this.lastBroadcastWarning < 10_000) return;
      this.lastBroadcastWarning = Date.now();
      this.log.warn('{Count} live event(s) ({EventType}, …) reached this instance only: the backplane refused them', { Count: batch.length, EventType: batch[0]!.type }, error);
    });
  }

  private fromBackplane(body: unknown): void {
    const e = body as Partial<PublishedLiveEvent> | null;
    if (!e || typeof e.type !== 'string' || typeof e.tenantId !== 'string' || typeof e.id !== 'string' || typeof e.at !== 'string') {
      this.log.warn('Ignored a malformed live event from the backplane');
      return;
    }
    this.deliver({ ...e, origin: e.origin ?? 'unknown' } as PublishedLiveEvent);
  }

  /** Hands an event to this process's subscribers, as system work (decision 0395): a reaction serves the deployment, not the request that published. */
  protected deliver(event: PublishedLiveEvent): void {
    this.history.add(event);
    if (this.subscriptions.size === 0) return;
    const tenant = TenantLabels.of(event.tenantId);
    const parent = extractTraceContext(event.trace);
    for (const s of [...this.subscriptions]) {
      try {
        if (s.filter && !s.filter(event)) continue;
        withSpanSync('live_update.consume', { kind: SpanKind.CONSUMER, parent, attributes: { 'event.type': event.type, subscriber: s.name, 'event.origin': event.origin } }, () => RequestContext.detached(() => s.listener(event)));
        Metrics.add('ampora_live_bus_events_total', 1, { tenant, event_type: event.type, direction: 'consumed' });
      } catch (error) {
        this.log.error('Live subscriber {Subscriber} failed on {EventType}', { Subscriber: s.name, EventType: event.type }, error);
      }
    }
  }
}

/** Convenience for publishers inside a request: the caller's tenant. */
export function liveEvent<T>(type: string, payload: T, entityId?: string, tenantId = RequestContext.tenantId()): LiveEvent<T> {
  if (!tenantId) throw new Error(`live event ${type} has no tenant`);
  return { type, tenantId, entityId, payload };
}
