import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { RequestContext } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { Metrics } from '../telemetry/catalogue';
import { injectTraceContext, TraceCarrier } from '../telemetry/tracing';

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
  /** Set by the bus: when, where from, and the trace it belongs to. */
  id?: string;
  at?: string;
  origin?: string;
  trace?: TraceCarrier;
}

export type LiveListener = (event: LiveEvent) => void;

/**
 * The live-update bus. Publishers call `publish`; listeners in this process `subscribe`. The default
 * implementation delivers within the process; a deployment with several instances replaces it with
 * one that fans events out across instances.
 */
@Injectable()
export class LiveBus {
  protected readonly emitter = new EventEmitter();
  private seq = 0;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  publish<T>(event: LiveEvent<T>): void {
    const full: LiveEvent<T> = {
      ...event,
      id: event.id ?? `${Date.now().toString(36)}-${(this.seq++).toString(36)}`,
      at: event.at ?? new Date().toISOString(),
      trace: event.trace ?? injectTraceContext(),
    };
    Metrics.add('ampora_live_bus_events_total', 1, { tenant: TenantLabels.of(full.tenantId), event_type: full.type, direction: 'published' });
    this.deliver(full);
  }

  /** Subscribes to every event delivered in this process; returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Hands an event to this process's listeners. */
  protected deliver(event: LiveEvent): void {
    this.emitter.emit('event', event);
  }
}

/** Convenience for publishers inside a request: the caller's tenant. */
export function liveEvent<T>(type: string, payload: T, entityId?: string, tenantId = RequestContext.tenantId()): LiveEvent<T> {
  if (!tenantId) throw new Error(`live event ${type} has no tenant`);
  return { type, tenantId, entityId, payload };
}
