import { classify, componentSamples, increase, RawPoint } from './collector-metrics';
import { decodeMetricsRequest, encodeMetricsRequest } from './otlp-metrics.codec';

const point = (metric: string, attributes: Record<string, string>, value: number, temporality: RawPoint['temporality'] = 'cumulative'): RawPoint => ({ metric, temporality, attributes, value, startNs: 1n, timeNs: 2n });

describe("a Collector's own metrics", () => {
  it('classifies the Collector\'s per-component metrics by their published names, with or without the Prometheus _total', () => {
    expect(classify('otelcol_receiver_accepted_spans', { receiver: 'otlp', transport: 'http' })).toEqual({ kind: 'receiver', component: 'otlp', signal: 'traces', measure: 'accepted' });
    expect(classify('otelcol_receiver_refused_metric_points_total', { receiver: 'otlp' })).toEqual({ kind: 'receiver', component: 'otlp', signal: 'metrics', measure: 'refused' });
    expect(classify('otelcol_exporter_send_failed_log_records', { exporter: 'otlphttp/dead' })).toEqual({ kind: 'exporter', component: 'otlphttp/dead', signal: 'logs', measure: 'send_failed' });
    expect(classify('otelcol_exporter_sent_spans', { exporter: 'debug' })).toMatchObject({ measure: 'sent' });
    expect(classify('otelcol_processor_dropped_spans', { processor: 'memory_limiter' })).toMatchObject({ kind: 'processor', measure: 'dropped' });
    expect(classify('otelcol_processor_incoming_items', { 'otel.component.id': 'batch', 'otel.signal': 'traces' })).toEqual({ kind: 'processor', component: 'batch', signal: 'traces', measure: 'incoming' });
    expect(classify('otelcol_exporter_queue_size', { exporter: 'otlp', data_type: 'metrics' })).toEqual({ kind: 'exporter', component: 'otlp', signal: 'metrics', measure: 'queue_size' });
    expect(classify('otelcol_process_uptime', {})).toBeUndefined();
    expect(classify('otelcol_receiver_accepted_spans', {})).toBeUndefined(); // no component
  });

  it('keeps counters as counters and the queue size as a gauge', () => {
    const samples = componentSamples([
      point('otelcol_exporter_sent_spans', { exporter: 'debug' }, 10),
      point('otelcol_exporter_sent_spans', { exporter: 'debug' }, 10, 'gauge'),
      point('otelcol_exporter_queue_size', { exporter: 'otlp', data_type: 'traces' }, 3, 'gauge'),
      point('otelcol_exporter_queue_size', { exporter: 'otlp', data_type: 'traces' }, 3, 'delta'),
      point('otelcol_exporter_sent_spans', { exporter: 'debug' }, Number.NaN),
    ]);
    expect(samples.map((s) => `${s.measure}:${s.cumulative}`)).toEqual(['sent:true', 'queue_size:false']);
  });

  it('turns cumulative counters into increases, restarting with a new start time or a lower value', () => {
    const [s] = componentSamples([{ ...point('otelcol_exporter_sent_spans', { exporter: 'debug' }, 25), startNs: 7n }]);
    expect(increase(s!, undefined)).toBe(25);
    expect(increase(s!, { startNs: 7n, value: 20 })).toBe(5);
    expect(increase(s!, { startNs: 6n, value: 20 })).toBe(25); // the Collector restarted
    expect(increase(s!, { startNs: 7n, value: 30 })).toBe(25); // reset
    expect(increase({ ...s!, cumulative: false }, { startNs: 7n, value: 20 })).toBe(25); // a delta point
  });

  it('decodes OTLP/JSON and protobuf alike', () => {
    const json = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otelcol' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'otelcol_exporter_send_failed_spans',
                  sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ attributes: [{ key: 'exporter', value: { stringValue: 'otlphttp' } }], startTimeUnixNano: '1', timeUnixNano: '2', asInt: '42' }] },
                },
                { name: 'otelcol_exporter_queue_size', sum: { aggregationTemporality: 2, isMonotonic: false, dataPoints: [{ attributes: [{ key: 'exporter', value: { stringValue: 'otlphttp' } }, { key: 'data_type', value: { stringValue: 'traces' } }], asDouble: 4 }] } },
                { name: 'otelcol_process_uptime', gauge: { dataPoints: [{ asDouble: 12.5 }] } },
              ],
            },
          ],
        },
      ],
    };
    for (const decoded of [decodeMetricsRequest(Buffer.from(JSON.stringify(json)), 'json'), decodeMetricsRequest(encodeMetricsRequest(json), 'protobuf')]) {
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) continue;
      expect(decoded.dataPoints).toBe(3);
      expect(componentSamples(decoded.points)).toEqual([
        expect.objectContaining({ kind: 'exporter', component: 'otlphttp', signal: 'traces', measure: 'send_failed', value: 42, cumulative: true, startNs: 1n }),
        expect.objectContaining({ measure: 'queue_size', value: 4, cumulative: false }),
      ]);
    }
    expect(decodeMetricsRequest(Buffer.from([0xff, 0xff, 0xff]), 'protobuf').ok).toBe(false);
    expect(decodeMetricsRequest(Buffer.from('{not json'), 'json').ok).toBe(false);
  });
});
