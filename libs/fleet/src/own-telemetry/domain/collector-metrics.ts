/**
 * What Ampora reads of a Collector's own metrics (pure): the per-component counters and gauges of the
 * Collector's internal telemetry, by their published names (`otelcol_receiver_accepted_spans`,
 * `otelcol_exporter_send_failed_metric_points`, `otelcol_exporter_queue_size`, ... ; the Prometheus
 * form with `_total` is read too), turned into samples of one component, one signal and one measure.
 * Everything else a payload carries is ignored: the intake is coarse by design (decision 0320).
 */

export type ComponentKind = 'receiver' | 'processor' | 'exporter';
export type Signal = 'traces' | 'metrics' | 'logs';
/** `dropped` also counts a processor's incoming minus outgoing items (the Collector's newer metrics). */
export type Measure = 'accepted' | 'refused' | 'dropped' | 'incoming' | 'outgoing' | 'sent' | 'send_failed' | 'queue_size';

export const MEASURES: readonly Measure[] = ['accepted', 'refused', 'dropped', 'incoming', 'outgoing', 'sent', 'send_failed', 'queue_size'];
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

/** Gauges keep their last value; every other measure is a count of items. */
export function isGauge(measure: Measure): boolean {
  return measure === 'queue_size';
}

/** One data point of a known series. `cumulative`: the value counts since `startNs` (a counter). */
export interface ComponentSample {
  kind: ComponentKind;
  component: string;
  signal: Signal;
  measure: Measure;
  value: number;
  cumulative: boolean;
  startNs: bigint;
  timeNs: bigint;
}

/** A data point as decoded (protobuf or JSON): attribute values as strings. */
export interface RawPoint {
  metric: string;
  /** Sum (counter) temporality: cumulative, delta, or a gauge. */
  temporality: 'cumulative' | 'delta' | 'gauge';
  attributes: Record<string, string>;
  value: number;
  startNs: bigint;
  timeNs: bigint;
}

const SIGNAL_SUFFIX: ReadonlyArray<readonly [string, Signal]> = [
  ['spans', 'traces'],
  ['metric_points', 'metrics'],
  ['log_records', 'logs'],
];

const NAMES: ReadonlyArray<readonly [string, ComponentKind, Measure]> = [
  ['receiver_accepted', 'receiver', 'accepted'],
  ['receiver_refused', 'receiver', 'refused'],
  ['processor_dropped', 'processor', 'dropped'],
  ['processor_refused', 'processor', 'dropped'],
  ['processor_incoming', 'processor', 'incoming'],
  ['processor_outgoing', 'processor', 'outgoing'],
  ['exporter_sent', 'exporter', 'sent'],
  ['exporter_send_failed', 'exporter', 'send_failed'],
  ['exporter_enqueue_failed', 'exporter', 'send_failed'],
];

/** The component, signal and measure a Collector metric name (and its attributes) stands for, if any. */
export function classify(metric: string, attributes: Record<string, string>): Pick<ComponentSample, 'kind' | 'component' | 'signal' | 'measure'> | undefined {
  let name = metric.startsWith('otelcol_') ? metric.slice('otelcol_'.length) : metric;
  if (name.endsWith('_total')) name = name.slice(0, -'_total'.length);
  if (name === 'exporter_queue_size') {
    const component = attributes.exporter ?? attributes['otel.component.id'];
    const signal = signalOf(attributes['data_type'] ?? attributes['otel.signal']);
    return component && signal ? { kind: 'exporter', component, signal, measure: 'queue_size' } : undefined;
  }
  for (const [prefix, kind, measure] of NAMES) {
    if (!name.startsWith(`${prefix}_`)) continue;
    const rest = name.slice(prefix.length + 1);
    const signal = rest === 'items' ? signalOf(attributes['otel.signal']) : SIGNAL_SUFFIX.find(([suffix]) => suffix === rest)?.[1];
    const component = attributes[kind] ?? attributes['otel.component.id'];
    if (!signal || !component) return undefined;
    return { kind, component, signal, measure };
  }
  return undefined;
}

function signalOf(value: string | undefined): Signal | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (v === 'traces' || v === 'spans') return 'traces';
  if (v === 'metrics') return 'metrics';
  if (v === 'logs') return 'logs';
  return undefined;
}

/** The samples of the points Ampora knows (counters of any temporality, the queue-size gauge). */
export function componentSamples(points: RawPoint[]): ComponentSample[] {
  const out: ComponentSample[] = [];
  for (const p of points) {
    if (!Number.isFinite(p.value) || p.value < 0) continue;
    const c = classify(p.metric, p.attributes);
    if (!c) continue;
    // a queue size is a gauge (or an up-down sum); every other measure a counter
    if (isGauge(c.measure) ? p.temporality === 'delta' : p.temporality === 'gauge') continue;
    out.push({ ...c, value: p.value, cumulative: p.temporality === 'cumulative', startNs: p.startNs, timeNs: p.timeNs });
  }
  return out;
}

/** The last cumulative value seen of one series. */
export interface SeriesMemory {
  startNs: bigint;
  value: number;
}

/**
 * The increase a counter point stands for: its value minus the last one of the same series with the
 * same start time; the whole value when the series is new or restarted (a Collector restarted to apply
 * a config starts its counters at zero, at a new start time) or went down (a reset). A delta point is
 * its own increase. A gauge has no increase (undefined).
 */
export function increase(sample: ComponentSample, last: SeriesMemory | undefined): number | undefined {
  if (isGauge(sample.measure)) return undefined;
  if (!sample.cumulative) return sample.value;
  if (!last || last.startNs !== sample.startNs || sample.value < last.value) return sample.value;
  return sample.value - last.value;
}

export function seriesKey(s: Pick<ComponentSample, 'kind' | 'component' | 'signal' | 'measure'>): string {
  return `${s.kind}\u0000${s.component}\u0000${s.signal}\u0000${s.measure}`;
}
