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
