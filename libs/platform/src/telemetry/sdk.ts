import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, BatchSpanProcessor, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PlatformConfig } from '../config/ampora-config';

interface TelemetryState {
  prometheus: PrometheusExporter;
  meterProvider: MeterProvider;
  tracerProvider: NodeTracerProvider;
}

let state: TelemetryState | undefined;

export interface TelemetryOptions {
  /** More span processors (tests read spans from an in-memory exporter this way). */
  spanProcessors?: SpanProcessor[];
}

/**
 * Starts tracing and metrics for this process. Call it before Nest is created (each app's
 * `instrument.ts` does); calling it again is a no-op. Spans always get ids (logs carry them);
 * they are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set, and recorded only when something
 * receives them (decision 0439: without an endpoint or a processor, OTEL_TRACES_SAMPLER is moot and
 * every span is a non-recording one). Metrics are always served on `/metrics` and also pushed over
 * OTLP when the endpoint is set.
 */
export function startTelemetry(config: PlatformConfig, role: 'server' | 'worker' | 'cli', options: TelemetryOptions = {}): void {
  if (state) return;
  const resource = resourceFromAttributes({
    'service.name': `${config.telemetry.serviceName}-${role}`,
    'service.namespace': 'ampora',
    'service.instance.id': config.app.instanceId,
  });
  const endpoint = config.telemetry.otlpEndpoint?.replace(/\/+$/, '');

  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (endpoint) spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter({ url: `${endpoint}/v1/traces` })));
  // a span nobody receives costs its attributes, times and end for nothing (decision 0439)
  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors, ...(spanProcessors.length === 0 ? { sampler: new AlwaysOffSampler() } : {}) });
  tracerProvider.register({
    contextManager: new AsyncLocalStorageContextManager(),
    propagator: new W3CTraceContextPropagator(),
  });

  // series carry exactly the catalogue's labels: no otel_scope_* labels (the scope is nestjs-otel's meter)
  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const readers: MetricReader[] = [prometheus];
  if (endpoint) {
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${endpoint}/v1/metrics` }),
        exportIntervalMillis: config.telemetry.metricsIntervalMs,
      }),
    );
  }
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);
  state = { prometheus, meterProvider, tracerProvider };
}

export function telemetryStarted(): boolean {
  return state !== undefined;
}

/** The Prometheus exporter behind `GET /metrics`. */
export function prometheusExporter(): PrometheusExporter {
  if (!state) throw new Error('telemetry has not been started');
  return state.prometheus;
}

/** Flushes spans and metrics; used on shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  if (!state) return;
  const s = state;
  await Promise.allSettled([s.tracerProvider.forceFlush(), s.meterProvider.forceFlush()]);
}

export { context, propagation, trace };
