import { resolve } from 'node:path';
import protobuf from 'protobufjs';
import { AgentCapability, TestAgent } from '@ampora/testing';

/**
 * Helpers for agents' own telemetry (issue 20): an agent's own-metrics offer, and OTLP/HTTP metrics
 * requests the way a Collector's internal telemetry sends them, encoded with protobufjs from the
 * `.proto` at run time (the server decodes with protobuf-es generated code).
 */

/** The default test agent's capabilities plus ReportsOwnMetrics. */
export const OWN_METRICS_CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.ReportsRemoteConfig | AgentCapability.ReportsEffectiveConfig | AgentCapability.ReportsHeartbeat | AgentCapability.ReportsOwnMetrics;

export interface OwnMetricsOffer {
  endpoint: string;
  authorization: string;
}

/** The own-metrics settings the agent was offered (the last offer it received), if any. */
export function ownMetricsOffer(agent: TestAgent): OwnMetricsOffer | undefined {
  const own = [...agent.connectionSettings].reverse().find((c) => c.own_metrics)?.own_metrics;
  if (!own) return undefined;
  const authorization = own.headers?.headers?.find((h) => h.key?.toLowerCase() === 'authorization')?.value ?? '';
  return { endpoint: own.destination_endpoint ?? '', authorization };
}

/** One counter of a Collector's internal telemetry: a component's items of one signal. */
export interface CounterPoint {
  metric: string;
  component: { kind: 'receiver' | 'processor' | 'exporter'; id: string };
  value: number;
  /** Cumulative since `startNs` (the Collector's way) or a delta. */
  temporality?: 'cumulative' | 'delta';
  startNs?: bigint;
}

/** An ExportMetricsServiceRequest in OTLP/JSON. */
export function otlpMetricsJson(points: CounterPoint[], now = Date.now()): Record<string, unknown> {
  const nowNs = String(BigInt(now) * 1_000_000n);
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otelcol-contrib' } }] },
        scopeMetrics: [
          {
            scope: { name: 'go.opentelemetry.io/collector/exporter/exporterhelper' },
            metrics: points.map((p) => ({
              name: p.metric,
              unit: '{item}',
              sum: {
                aggregationTemporality: p.temporality === 'delta' ? 1 : 2,
                isMonotonic: true,
                dataPoints: [
                  {
                    attributes: [{ key: p.component.kind, value: { stringValue: p.component.id } }],
                    startTimeUnixNano: String(p.startNs ?? 1n),
                    timeUnixNano: nowNs,
                    asInt: String(p.value),
                  },
                ],
              },
            })),
          },
        ],
      },
    ],
  };
}

let otlpType: protobuf.Type | undefined;

/** The same request as protobuf bytes. */
export function otlpMetricsProtobuf(json: Record<string, unknown>): Buffer {
  otlpType ??= protobuf.loadSync(resolve(__dirname, '../../libs/fleet/proto/otlp_metrics.proto')).lookupType('ampora.otlp.v1.ExportMetricsServiceRequest');
  const err = otlpType.verify(otlpType.fromObject(json));
  if (err) throw new Error(`invalid ExportMetricsServiceRequest: ${err}`);
  return Buffer.from(otlpType.encode(otlpType.fromObject(json)).finish());
}

/** POSTs one request to the offered endpoint; the status and response body. */
export async function postOtlp(offer: OwnMetricsOffer, body: Buffer | string, contentType = 'application/x-protobuf', authorization = offer.authorization): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(offer.endpoint, { method: 'POST', headers: { 'content-type': contentType, ...(authorization ? { authorization } : {}) }, body });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** An exporter's sent and send-failed spans (deltas) as one OTLP/JSON request. */
export function exporterReport(exporter: string, sent: number, failed: number): Record<string, unknown> {
  return otlpMetricsJson([
    { metric: 'otelcol_exporter_sent_spans', component: { kind: 'exporter', id: exporter }, value: sent, temporality: 'delta' },
    { metric: 'otelcol_exporter_send_failed_spans', component: { kind: 'exporter', id: exporter }, value: failed, temporality: 'delta' },
  ]);
}
