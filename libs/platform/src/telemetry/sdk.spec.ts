import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { testEnv } from '@ampora/testing';
import { startTelemetry } from './sdk';
import { currentTraceId, extractTraceContext, injectTraceContext, tracer, withSpan, withSpanSync } from './tracing';

/**
 * Decision 0439: a process that exports no spans (no OTEL_EXPORTER_OTLP_ENDPOINT, no processor given)
 * records none, but every span still has ids: logs carry the trace id, a traceparent received is
 * continued, and what this process sends on carries it. (A process with a processor records its
 * spans: test/telemetry/spans-in-memory.e2e-spec.ts and the OTLP contract suite.)
 */
describe('telemetry without a span exporter', () => {
  beforeAll(() => {
    // OTEL_TRACES_SAMPLER set to record everything must not matter: nothing would receive the spans
    startTelemetry(testEnv(undefined, { OTEL_TRACES_SAMPLER: 'always_on' }).config, 'server');
  });

  it('makes spans that are not recorded but have ids, which the active context and the logs carry', async () => {
    const span = tracer().startSpan('probe');
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(span.spanContext().spanId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    span.end();

    const seen = await withSpan('outer', {}, async (outer) => {
      expect(outer.isRecording()).toBe(false);
      return { active: currentTraceId(), own: outer.spanContext().traceId, inner: withSpanSync('inner', {}, (inner) => inner.spanContext()) };
    });
    expect(seen.active).toBe(seen.own);
    expect(seen.inner.traceId).toBe(seen.own);
  });

  it('continues an incoming trace and passes its id on, marked not sampled here', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = extractTraceContext({ traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
    const carrier = withSpanSync('consumer', { parent }, () => injectTraceContext());
    expect(carrier.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    const downstream = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, carrier as Record<string, string>));
    expect(downstream?.traceId).toBe(traceId);
    expect(downstream?.traceFlags).toBe(TraceFlags.NONE);
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
