import { TraceCarrier } from '../telemetry/tracing';

/** What every job carries besides its payload: the tenant and the trace that enqueued it. */
export interface JobEnvelope<T = unknown> {
  tenantId?: string;
  trace: TraceCarrier;
  payload: T;
}
