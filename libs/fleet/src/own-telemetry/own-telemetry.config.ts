import type { EnvReader, PlatformConfig } from '@ampora/platform';

/** Agents' own telemetry (AMPORA_AGENT_TELEMETRY_*), part of fleet's section (decision 0320). */
export interface OwnTelemetryConfig {
  /** Offer `own_metrics` to agents that report their own metrics (off: no offer; the intake still answers). */
  enabled: boolean;
  /** The OTLP/HTTP metrics URL offered to agents: Ampora's intake as agents reach it. */
  metricsUrl: string;
  /** Operator's OTLP/HTTP endpoints for agents' own traces and logs (offered only when set). */
  tracesUrl?: string;
  logsUrl?: string;
  /** Headers sent with own traces and logs (`key=value,key=value`; a secret). */
  otlpHeaders: Record<string, string>;
  /** Width of a rollup bucket in PostgreSQL (and of the rates' resolution). */
  bucketSeconds: number;
  /** How often an instance writes what it received to the rollups. */
  flushSeconds: number;
  /** Rollups older than this are deleted. */
  retentionHours: number;
  /** The window of the rates the telemetry API and the live stream show. */
  rateWindowSeconds: number;
  /** The largest OTLP request body accepted (after decompression). */
  maxBodyBytes: number;
}

export const OWN_TELEMETRY_SECRETS = ['AMPORA_AGENT_TELEMETRY_OTLP_HEADERS'];

export function readOwnTelemetryConfig(r: EnvReader, platform: PlatformConfig): OwnTelemetryConfig {
  const headers = r.string('AMPORA_AGENT_TELEMETRY_OTLP_HEADERS') ?? '';
  return {
    enabled: r.bool('AMPORA_AGENT_TELEMETRY_ENABLED', true),
    metricsUrl: r.url('AMPORA_AGENT_TELEMETRY_URL', ['http', 'https'], `${platform.app.publicUrl}/v1/metrics`),
    tracesUrl: r.url('AMPORA_AGENT_TELEMETRY_TRACES_URL', ['http', 'https']),
    logsUrl: r.url('AMPORA_AGENT_TELEMETRY_LOGS_URL', ['http', 'https']),
    otlpHeaders: Object.fromEntries(
      headers
        .split(',')
        .map((kv) => kv.trim())
        .filter((kv) => kv.includes('='))
        .map((kv) => [kv.slice(0, kv.indexOf('=')).trim(), kv.slice(kv.indexOf('=') + 1).trim()]),
    ),
    bucketSeconds: r.int('AMPORA_AGENT_TELEMETRY_BUCKET_SECONDS', 60, 1, 3600),
    flushSeconds: r.int('AMPORA_AGENT_TELEMETRY_FLUSH_SECONDS', 10, 1, 3600),
    retentionHours: r.int('AMPORA_AGENT_TELEMETRY_RETENTION_HOURS', 48, 1, 24 * 90),
    rateWindowSeconds: r.int('AMPORA_AGENT_TELEMETRY_RATE_WINDOW_SECONDS', 300, 10, 86400),
    maxBodyBytes: r.int('AMPORA_AGENT_TELEMETRY_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 256 * 1024 * 1024),
  };
}
