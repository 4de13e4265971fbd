import { fromBinary, fromJson, toBinary, toJson, create } from '@bufbuild/protobuf';
import type { JsonValue } from '@bufbuild/protobuf';
import { AggregationTemporality, AnyValue, ExportMetricsServiceRequest, ExportMetricsServiceRequestSchema, ExportMetricsServiceResponseSchema, KeyValue, NumberDataPoint } from '../generated/otlp_metrics_pb';
import type { RawPoint } from './collector-metrics';

/** OTLP/HTTP's two encodings (the request's Content-Type picks one, the response uses the same). */
export type OtlpEncoding = 'protobuf' | 'json';

export type DecodeResult = { ok: true; points: RawPoint[]; dataPoints: number } | { ok: false; reason: string };

/** Decodes an ExportMetricsServiceRequest (protobuf bytes or OTLP/JSON text) into its number data points. */
export function decodeMetricsRequest(body: Buffer, encoding: OtlpEncoding): DecodeResult {
  let request: ExportMetricsServiceRequest;
  try {
    request =
      encoding === 'protobuf'
        ? fromBinary(ExportMetricsServiceRequestSchema, body)
        : fromJson(ExportMetricsServiceRequestSchema, JSON.parse(body.toString('utf8')) as JsonValue, { ignoreUnknownFields: true });
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const points: RawPoint[] = [];
  let dataPoints = 0;
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        if (m.data.case === 'sum') {
          const temporality = m.data.value.aggregationTemporality === AggregationTemporality.DELTA ? 'delta' : 'cumulative';
          // a non-monotonic sum (an up-down counter: a queue size) is read like a gauge
          const kind = m.data.value.isMonotonic ? temporality : 'gauge';
          for (const dp of m.data.value.dataPoints) points.push(point(m.name, kind, dp));
          dataPoints += m.data.value.dataPoints.length;
        } else if (m.data.case === 'gauge') {
          for (const dp of m.data.value.dataPoints) points.push(point(m.name, 'gauge', dp));
          dataPoints += m.data.value.dataPoints.length;
        }
      }
    }
  }
  return { ok: true, points, dataPoints };
}

/** The (empty: everything accepted) ExportMetricsServiceResponse in the request's encoding. */
export function encodeMetricsResponse(encoding: OtlpEncoding): Buffer {
  const response = create(ExportMetricsServiceResponseSchema, {});
  return encoding === 'protobuf' ? Buffer.from(toBinary(ExportMetricsServiceResponseSchema, response)) : Buffer.from(JSON.stringify(toJson(ExportMetricsServiceResponseSchema, response)));
}

/** An ExportMetricsServiceRequest from JSON-shaped input, as protobuf bytes (tests, tools). */
export function encodeMetricsRequest(json: unknown): Buffer {
  return Buffer.from(toBinary(ExportMetricsServiceRequestSchema, fromJson(ExportMetricsServiceRequestSchema, json as JsonValue)));
}

function point(metric: string, temporality: RawPoint['temporality'], dp: NumberDataPoint): RawPoint {
  const value = dp.value.case === 'asDouble' ? dp.value.value : dp.value.case === 'asInt' ? Number(dp.value.value) : 0;
  return { metric, temporality, attributes: attributes(dp.attributes), value, startNs: dp.startTimeUnixNano, timeNs: dp.timeUnixNano };
}

function attributes(list: KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) if (kv.value) out[kv.key] = text(kv.value);
  return out;
}

function text(v: AnyValue): string {
  switch (v.value.case) {
    case 'stringValue':
      return v.value.value;
    case 'boolValue':
    case 'intValue':
    case 'doubleValue':
      return String(v.value.value);
    default:
      return '';
  }
}
