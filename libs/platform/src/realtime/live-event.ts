import type { TraceCarrier } from '../telemetry/tracing';

/**
 * A domain event for operators' live views (and for reactions in other processes): agent connected,
 * configuration version published, rollout progressed, ... `type` is dotted (`agent.connected`).
 */
export interface LiveEvent<T = unknown> {
  type: string;
  tenantId: string;
  /** The entity the event is about, when there is one (agent id, rollout id, ...). */
  entityId?: string;
  payload: T;
  /** Set by the bus: the event's id, publish time, publishing instance, and the trace it belongs to. */
  id?: string;
  at?: string;
  origin?: string;
  trace?: TraceCarrier;
}

/** An event as delivered: everything the bus sets is present. */
export type PublishedLiveEvent<T = unknown> = LiveEvent<T> & { id: string; at: string; origin: string };

/**
 * Event ids order by publish time across instances: `<ms since epoch, base36, 9 digits>-<publisher>-<seq>`.
 */
export function liveEventId(ms: number, node: string, seq: number): string {
  return `${ms.toString(36).padStart(9, '0')}-${node}-${seq.toString(36)}`;
}

/** The publish time encoded in an event id, or undefined when the id is not one of ours. */
export function liveEventTime(id: string): number | undefined {
  const m = /^([0-9a-z]{9})-[0-9a-z]+-[0-9a-z]+$/.exec(id);
  if (!m) return undefined;
  const ms = parseInt(m[1]!, 36);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * One kind of domain event: its dotted name and its payload. Each lib declares the events it
 * publishes as a union of these in one file (`<lib>.events.ts`), and publishes and listens with that
 * union as the type argument, so no event name is a bare string at a call site.
 */
export interface DomainEvent<N extends string = string, P = unknown> {
  type: N;
  payload: P;
}

/** What a publisher hands the bus for one member of an event union: name and payload stay paired. */
export type PublishableEvent<E extends DomainEvent> = E extends DomainEvent
  ? Omit<LiveEvent<E['payload']>, 'type'> & { type: E['type'] }
  : never;

/** An event of the union `E` as delivered, narrowed by `type`. */
export type DeliveredEvent<E extends DomainEvent> = E extends DomainEvent
  ? Omit<PublishedLiveEvent<E['payload']>, 'type'> & { type: E['type'] }
  : never;

/** True when a delivered event is the kind named; narrows its payload. */
export function isEvent<E extends DomainEvent, N extends E['type']>(
  event: PublishedLiveEvent,
  type: N,
): event is PublishedLiveEvent<Extract<E, { type: N }>['payload']> & { type: N } {
  return event.type === type;
}

/**
 * The control events of the live stream itself (`GET /api/live`), sent to one subscriber and never
 * on the bus: `dropped` when it read too slowly and lost events, `reset` when the events after its
 * `Last-Event-ID` are no longer known.
 */
export const LiveStreamEvents = {
  Dropped: 'dropped',
  Reset: 'reset',
} as const;

export type LiveStreamEvent =
  | DomainEvent<typeof LiveStreamEvents.Dropped, { count: number; lastEventId: string | null }>
  | DomainEvent<typeof LiveStreamEvents.Reset, { reason: 'unknown_event_id' | 'outside_window'; lastEventId: string }>;

/** The JSON `data` of one SSE frame of a bus event (the same fields for every lib's events). */
export type LiveFrameData<E extends DomainEvent = DomainEvent> = E extends DomainEvent
  ? { id: string; type: E['type']; tenantId: string; entityId: string | null; at: string; origin: string; payload: E['payload'] }
  : never;

/** The SSE `data` of a delivered event of the union `E` (typed by its name and payload). */
export function liveFrameData<E extends DomainEvent>(event: DeliveredEvent<E>): LiveFrameData<E> {
  const e = event as PublishedLiveEvent;
  return { id: e.id, type: e.type, tenantId: e.tenantId, entityId: e.entityId ?? null, at: e.at, origin: e.origin, payload: e.payload } as LiveFrameData<E>;
}
