import { Attributes, Counter, Histogram, ObservableGauge, UpDownCounter } from '@opentelemetry/api';
import { MetricService } from 'nestjs-otel';

/** Bucket boundaries (seconds) for every duration histogram of the catalogue. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

type Kind = 'counter' | 'histogram' | 'updown' | 'gauge';

interface Definition {
  kind: Kind;
  description: string;
  labels: readonly string[];
  unit?: string;
}

/**
 * The published telemetry contract (seeds/metrics-and-traces.txt). Names, types and label sets are a
 * public interface: change them only with the contract.
 */
export const METRIC_CATALOGUE = {
  // OpAMP
  ampora_opamp_active_sessions: { kind: 'updown', description: 'Currently open OpAMP sessions', labels: ['tenant', 'instance'] },
  ampora_opamp_frames_received_total: { kind: 'counter', description: 'Inbound frames', labels: ['tenant', 'frame_kind'] },
  ampora_opamp_frames_rejected_total: { kind: 'counter', description: 'Rejected frames: oversize, malformed, cap_mismatch, auth_failed', labels: ['tenant', 'reason'] },
  ampora_opamp_apply_duration_seconds: { kind: 'histogram', description: 'Push to APPLIED wall-clock', labels: ['tenant', 'agent_type'], unit: 's' },
  ampora_opamp_bootstrap_redemptions_total: { kind: 'counter', description: 'First-connect token redemption', labels: ['tenant', 'outcome'] },
  // (Ampora-specific additions, not part of the published contract)
  ampora_opamp_strings_neutralised_total: { kind: 'counter', description: 'Strings agents reported that were changed before storing: nul, surrogate, invalid_utf8, truncated, dropped', labels: ['tenant', 'reason'] },
  ampora_agent_state_updates_dropped_total: { kind: 'counter', description: 'Agent state updates PostgreSQL refused for their data, dropped so the rest of the batch is written', labels: ['sqlstate'] },
  // Dispatch backplane
  ampora_dispatch_local_total: { kind: 'counter', description: 'Same-instance dispatches', labels: ['tenant'] },
  ampora_dispatch_forwarded_total: { kind: 'counter', description: 'Cross-instance dispatches', labels: ['tenant', 'target_instance'] },
  ampora_dispatch_no_session_total: { kind: 'counter', description: 'Targeted agent had no live session', labels: ['tenant'] },
  ampora_dispatch_envelope_age_seconds: { kind: 'histogram', description: 'Time from publish to consume', labels: ['tenant'], unit: 's' },
  ampora_session_ownership_acquires_total: { kind: 'counter', description: 'Lease acquisition outcome', labels: ['outcome'] },
  // Live-update bus
  ampora_live_bus_events_total: { kind: 'counter', description: 'Events published / consumed', labels: ['tenant', 'event_type', 'direction'] },
  ampora_live_bus_dropped_total: { kind: 'counter', description: 'Subscriber overflow drops', labels: ['tenant', 'subscriber'] },
  // Governance
  ampora_policy_evaluations_total: { kind: 'counter', description: 'Policy evaluations, allow or deny', labels: ['tenant', 'policy', 'outcome'] },
  ampora_policy_denied_total: { kind: 'counter', description: 'Denials per policy', labels: ['tenant', 'policy'] },
  ampora_policy_evaluation_duration_seconds: { kind: 'histogram', description: 'Per-evaluation latency', labels: ['tenant', 'policy'], unit: 's' },
  ampora_audit_archived_total: { kind: 'counter', description: 'Rows moved hot to archive', labels: ['tenant'] },
  ampora_audit_purged_total: { kind: 'counter', description: 'Rows purged from archive', labels: ['tenant'] },
  // Rollouts
  ampora_rollout_state_transitions_total: { kind: 'counter', description: 'State machine transitions', labels: ['tenant', 'from', 'to'] },
  ampora_rollout_gate_fired_total: { kind: 'counter', description: 'Per-gate firing rate', labels: ['tenant', 'gate'] },
  ampora_rollout_targets_succeeded_total: { kind: 'counter', description: 'Per-rollout success counter', labels: ['tenant', 'rollout_id'] },
  ampora_rollout_targets_failed_total: { kind: 'counter', description: 'Per-rollout failure counter', labels: ['tenant', 'rollout_id'] },
  // GitOps
  ampora_gitops_sync_runs_total: { kind: 'counter', description: 'Sweep outcomes', labels: ['tenant', 'source', 'outcome'] },
  ampora_gitops_sync_duration_seconds: { kind: 'histogram', description: 'Per-sweep duration', labels: ['tenant', 'source'], unit: 's' },
  ampora_gitops_files_imported_total: { kind: 'counter', description: 'Files producing new versions', labels: ['tenant', 'source'] },
  ampora_gitops_webhook_rejected_total: { kind: 'counter', description: 'GitOps webhook calls refused (401): missing_token, wrong_token', labels: ['tenant', 'reason'] },
  // Federation
  ampora_federation_calls_total: { kind: 'counter', description: 'Per-peer call counters', labels: ['tenant', 'peer', 'direction', 'outcome'] },
  ampora_federation_call_duration_seconds: { kind: 'histogram', description: 'Per-call latency', labels: ['tenant', 'peer', 'direction'], unit: 's' },
  // Database
  ampora_db_query_duration_seconds: { kind: 'histogram', description: 'Per-query duration (top queries labelled)', labels: ['tenant', 'query'], unit: 's' },
  ampora_db_pool_open_connections: { kind: 'gauge', description: 'Open database connections', labels: ['instance'] },
  ampora_db_pool_busy_connections: { kind: 'gauge', description: 'Busy database connections', labels: ['instance'] },
  // PKI
  ampora_pki_certs_issued_total: { kind: 'counter', description: 'Certificates issued: agent, ocsp, federation', labels: ['tenant', 'kind'] },
  ampora_pki_certs_revoked_total: { kind: 'counter', description: 'Certificates revoked', labels: ['tenant', 'kind'] },
  ampora_pki_offers_unusable_total: { kind: 'counter', description: 'Certificate offers the agent never used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS', labels: ['tenant'] },
  ampora_pki_signing_duration_seconds: { kind: 'histogram', description: 'Provider-side signing latency', labels: ['tenant', 'provider'], unit: 's' },
  ampora_pki_crl_publish_duration_seconds: { kind: 'histogram', description: 'Per-publish duration', labels: ['tenant'], unit: 's' },
  // HTTP (OpenTelemetry semantic conventions)
  http_server_request_duration_seconds: { kind: 'histogram', description: 'Duration of HTTP server requests', labels: ['http_request_method', 'http_route', 'http_response_status_code'], unit: 's' },
  // Fleet (Ampora-specific additions, not part of the published contract)
  ampora_fleet_agents_forgotten_total: { kind: 'counter', description: 'Agents forgotten: by an operator (DELETE, bulk delete) or by the retention sweep', labels: ['tenant', 'reason'] },
  // Queues (Ampora-specific additions, not part of the published contract)
  ampora_queue_jobs_total: { kind: 'counter', description: 'Background jobs processed', labels: ['queue', 'job', 'outcome'] },
  // Untrusted texts over a limit (Ampora-specific addition, decision 0130): source is version, assignment or effective_config
  ampora_config_limit_exceeded_total: { kind: 'counter', description: 'Configuration texts refused or flagged for exceeding a parsing limit', labels: ['tenant', 'source', 'limit'] },
  // Agents' own telemetry and the analysis gates on it (Ampora-specific additions, issue 20, decision 0320)
  ampora_agent_telemetry_requests_total: { kind: 'counter', description: 'OTLP/HTTP requests of agents\' own metrics: accepted, unauthorized, malformed, unsupported, oversize', labels: ['tenant', 'outcome'] },
  ampora_agent_telemetry_points_total: { kind: 'counter', description: 'Data points received in accepted OTLP requests of agents\' own metrics', labels: ['tenant'] },
  ampora_rollout_analysis_evaluations_total: { kind: 'counter', description: 'Analysis gate evaluations: pass, breach, inconclusive, pending', labels: ['tenant', 'gate', 'verdict'] },
  // Connection settings an operator offers (Ampora-specific addition, issue 20, decisions 0380, 0381): kind is endpoint or rotation; delivery a dispatch outcome, requested, or skipped
  ampora_connection_settings_offers_total: { kind: 'counter', description: 'Connection settings offered by an operator (an endpoint change, a certificate rotation), per agent and delivery', labels: ['tenant', 'kind', 'delivery'] },
  // Dispatch backplane (Ampora-specific addition)
  ampora_dispatch_fenced_total: { kind: 'counter', description: 'Forwarded pushes refused because their fencing token was older than the session\'s', labels: ['tenant'] },
  // Abuse limits (Ampora-specific addition, decision 0290): limit is enrolment, auth_failure or sessions; scope is ip or tenant
  ampora_abuse_limited_total: { kind: 'counter', description: 'Attempts answered 429 because an abuse limit was reached', labels: ['tenant', 'limit', 'scope'] },
} as const satisfies Record<string, Definition>;

export type MetricName = keyof typeof METRIC_CATALOGUE;
type LabelsOf<N extends MetricName> = (typeof METRIC_CATALOGUE)[N]['labels'][number];
export type MetricLabels<N extends MetricName> = { [K in LabelsOf<N>]: string };

type Instrument = Counter | Histogram | UpDownCounter;
/** nestjs-otel's metric registry (stateless; instruments live in the library's one map, keyed by name). */
const registry = new MetricService();
/** The catalogue's names of one kind (`gauge` names are read at collection time, see observableGauge). */
export type GaugeName = { [N in MetricName]: (typeof METRIC_CATALOGUE)[N]['kind'] extends 'gauge' ? N : never }[MetricName];

/** The instruments already asked of nestjs-otel, so a hot path (every OpAMP frame) does a single lookup. */
const instruments = new Map<MetricName, Instrument>();

/**
 * The instrument of a catalogue name, created on first use through nestjs-otel's `MetricService` (the
 * registry its decorators use too), so the Nest face and these typed calls share instruments.
 */
function instrument(name: MetricName): Instrument {
  let made = instruments.get(name);
  if (!made) instruments.set(name, (made = createInstrument(name)));
  return made;
}

function createInstrument(name: MetricName): Instrument {
  const def: Definition = METRIC_CATALOGUE[name];
  const opts = { description: def.description, unit: def.unit };
  switch (def.kind) {
    case 'counter':
      return registry.getCounter(name, opts);
    case 'updown':
      return registry.getUpDownCounter(name, opts);
    case 'histogram':
      return registry.getHistogram(name, { ...opts, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
    default:
      throw new Error(`${name} is a gauge: register it with Metrics.observableGauge`);
  }
}

/**
 * Typed access to the catalogue: `Metrics.add('ampora_dispatch_local_total', 1, { tenant })`.
 * Labels are checked against the catalogue at compile time. Instruments are created on first use,
 * after telemetry has started, so they bind to the real meter provider.
 */
export const Metrics = {
  add<N extends MetricName>(name: N, value: number, labels: MetricLabels<N>): void {
    (instrument(name) as Counter).add(value, labels as Attributes);
  },
  record<N extends MetricName>(name: N, value: number, labels: MetricLabels<N>): void {
    (instrument(name) as Histogram).record(value, labels as Attributes);
  },
  /** For up/down counters (gauges of things that open and close). */
  change<N extends MetricName>(name: N, delta: number, labels: MetricLabels<N>): void {
    (instrument(name) as UpDownCounter).add(delta, labels as Attributes);
  },
  /** Registers the callback of a catalogue gauge, read at collection time. */
  observableGauge<N extends GaugeName>(name: N, callback: () => Array<{ value: number; labels: MetricLabels<N> }>): ObservableGauge {
    const gauge = registry.getObservableGauge(name, { description: METRIC_CATALOGUE[name].description });
    gauge.addCallback((result) => {
      for (const o of callback()) result.observe(o.value, o.labels as Attributes);
    });
    return gauge;
  },
};

/** Seconds elapsed since a `process.hrtime.bigint()` reading. */
export function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
