import { Attributes, Context, context, propagation, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** W3C trace context as carried inside envelopes (job data, backplane messages, bus events). */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

export const tracer = () => trace.getTracer('ampora');

/** Writes the active (or given) context into a new carrier. */
export function injectTraceContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const out: TraceCarrier = {};
  if (carrier.traceparent) out.traceparent = carrier.traceparent;
  if (carrier.tracestate) out.tracestate = carrier.tracestate;
  return out;
}

/** Reads a carrier back into a context (the root context when it carries nothing usable). */
export function extractTraceContext(carrier: TraceCarrier | Record<string, unknown> | undefined): Context {
  if (!carrier) return ROOT_CONTEXT;
  const headers: Record<string, string> = {};
  for (const key of ['traceparent', 'tracestate']) {
    const v = (carrier as Record<string, unknown>)[key];
    if (typeof v === 'string') headers[key] = v;
  }
  return propagation.extract(ROOT_CONTEXT, headers);
}

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active context when omitted. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span. The span records an exception and an error status when `fn`
 * throws, and always ends.
 */
export async function withSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/** Synchronous variant of withSpan for hot paths that do not await. */
export function withSpanSync<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  try {
    return context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * withSpan for hot paths that wait only sometimes (an OpAMP frame: a heartbeat completes at once, the
 * first frame of a connection waits for the database): `fn` may return a value or a promise; the span
 * ends when the value is there, and no promise is made when `fn` made none.
 */
export function withSpanMaybeAsync<T>(name: string, options: SpanOptions, fn: (span: Span) => T | Promise<T>): T | Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  let result: T | Promise<T>;
  try {
    result = context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error);
    span.end();
    throw error;
  }
  if (!(result instanceof Promise)) {
    span.end();
    return result;
  }
  return result.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      failSpan(span, error);
      span.end();
      throw error;
    },
  );
}

function failSpan(span: Span, error: unknown): void {
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

export function currentTraceId(): string | undefined {
  const id = trace.getActiveSpan()?.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

export { SpanKind, SpanStatusCode };
export type { Span, Context };
