import { Global, Injectable, Module } from '@nestjs/common';
import { OpenTelemetryModule, TraceService } from 'nestjs-otel';
import { GaugeName, MetricLabels, MetricName, Metrics } from './catalogue';

/**
 * The catalogue as an injectable (for services that prefer their collaborators injected, and for
 * tests that want to swap it): the same instruments as the static `Metrics`, which live in
 * nestjs-otel's metric registry. Names and labels are checked against the catalogue at compile time.
 */
@Injectable()
export class CatalogueMetrics {
  add<N extends MetricName>(name: N, value: number, labels: MetricLabels<N>): void {
    Metrics.add(name, value, labels);
  }

  record<N extends MetricName>(name: N, value: number, labels: MetricLabels<N>): void {
    Metrics.record(name, value, labels);
  }

  change<N extends MetricName>(name: N, delta: number, labels: MetricLabels<N>): void {
    Metrics.change(name, delta, labels);
  }

  observableGauge<N extends GaugeName>(name: N, callback: () => Array<{ value: number; labels: MetricLabels<N> }>): void {
    Metrics.observableGauge(name, callback);
  }
}

/**
 * The Nest face of telemetry: nestjs-otel's module (its `MetricService` and `TraceService`, its `@Span`
 * decorator for service-level spans) over the providers `startTelemetry` registered before Nest
 * started. nestjs-otel's own HTTP and host metrics stay off: the catalogue is the one list of names
 * (decision 0233).
 */
@Global()
@Module({
  imports: [OpenTelemetryModule.forRoot({ metrics: { hostMetrics: false } })],
  providers: [CatalogueMetrics],
  exports: [OpenTelemetryModule, CatalogueMetrics],
})
export class TelemetryModule {}

export { TraceService };
