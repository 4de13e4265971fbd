import { METRIC_CATALOGUE } from '@ampora/platform';

/**
 * The published telemetry contract (docs: Metrics & traces), row by row, as the conformance test
 * checks it: the 33 metrics with their Prometheus type and exact label names, and the 10 spans with
 * their notable attributes. A row of a domain not built yet names the issue that brings it; that
 * work moves the row from pending to asserted by deleting its `pending`.
 */
export type PromType = 'counter' | 'gauge' | 'histogram';

export interface MetricRow {
  name: string;
  type: PromType;
  labels: string[];
  pending?: string;
}

export interface SpanRow {
  name: string;
  attributes: string[];
  pending?: string;
}

export const CONTRACT_METRICS: MetricRow[] = [
  // OpAMP
  { name: 'ampora_opamp_active_sessions', type: 'gauge', labels: ['tenant', 'instance'] },
  { name: 'ampora_opamp_frames_received_total', type: 'counter', labels: ['tenant', 'frame_kind'] },
  { name: 'ampora_opamp_frames_rejected_total', type: 'counter', labels: ['tenant', 'reason'] },
  { name: 'ampora_opamp_apply_duration_seconds', type: 'histogram', labels: ['tenant', 'agent_type'] },
  { name: 'ampora_opamp_bootstrap_redemptions_total', type: 'counter', labels: ['tenant', 'outcome'] },
  // Dispatch backplane
  { name: 'ampora_dispatch_local_total', type: 'counter', labels: ['tenant'] },
  { name: 'ampora_dispatch_forwarded_total', type: 'counter', labels: ['tenant', 'target_instance'] },
  { name: 'ampora_dispatch_no_session_total', type: 'counter', labels: ['tenant'] },
  { name: 'ampora_dispatch_envelope_age_seconds', type: 'histogram', labels: ['tenant'] },
  { name: 'ampora_session_ownership_acquires_total', type: 'counter', labels: ['outcome'] },
  // Live-update bus
  { name: 'ampora_live_bus_events_total', type: 'counter', labels: ['tenant', 'event_type', 'direction'] },
  { name: 'ampora_live_bus_dropped_total', type: 'counter', labels: ['tenant', 'subscriber'] },
  // Governance
  { name: 'ampora_policy_evaluations_total', type: 'counter', labels: ['tenant', 'policy', 'outcome'] },
  { name: 'ampora_policy_denied_total', type: 'counter', labels: ['tenant', 'policy'] },
  { name: 'ampora_policy_evaluation_duration_seconds', type: 'histogram', labels: ['tenant', 'policy'] },
  { name: 'ampora_audit_archived_total', type: 'counter', labels: ['tenant'] },
  { name: 'ampora_audit_purged_total', type: 'counter', labels: ['tenant'] },
  // Rollouts
  { name: 'ampora_rollout_state_transitions_total', type: 'counter', labels: ['tenant', 'from', 'to'] },
  { name: 'ampora_rollout_gate_fired_total', type: 'counter', labels: ['tenant', 'gate'] },
  { name: 'ampora_rollout_targets_succeeded_total', type: 'counter', labels: ['tenant', 'rollout_id'] },
  { name: 'ampora_rollout_targets_failed_total', type: 'counter', labels: ['tenant', 'rollout_id'] },
  // GitOps
  { name: 'ampora_gitops_sync_runs_total', type: 'counter', labels: ['tenant', 'source', 'outcome'] },
  { name: 'ampora_gitops_sync_duration_seconds', type: 'histogram', labels: ['tenant', 'source'] },
  { name: 'ampora_gitops_files_imported_total', type: 'counter', labels: ['tenant', 'source'] },
  // Federation
  { name: 'ampora_federation_calls_total', type: 'counter', labels: ['tenant', 'peer', 'direction', 'outcome'] },
  { name: 'ampora_federation_call_duration_seconds', type: 'histogram', labels: ['tenant', 'peer', 'direction'] },
  // Database
  { name: 'ampora_db_query_duration_seconds', type: 'histogram', labels: ['tenant', 'query'] },
  { name: 'ampora_db_pool_open_connections', type: 'gauge', labels: ['instance'] },
  { name: 'ampora_db_pool_busy_connections', type: 'gauge', labels: ['instance'] },
  // PKI
  { name: 'ampora_pki_certs_issued_total', type: 'counter', labels: ['tenant', 'kind'] },
  { name: 'ampora_pki_certs_revoked_total', type: 'counter', labels: ['tenant', 'kind'] },
  { name: 'ampora_pki_signing_duration_seconds', type: 'histogram', labels: ['tenant', 'provider'] },
  { name: 'ampora_pki_crl_publish_duration_seconds', type: 'histogram', labels: ['tenant'] },
];

/**
 * Ampora's additions to the catalogue that this test asserts too, apart from the published 33 (the
 * catalogue marks them "Ampora-specific additions"): issue 20's intake volume and analysis gates.
 */
export const EXTENSION_METRICS: MetricRow[] = [
  { name: 'ampora_agent_telemetry_requests_total', type: 'counter', labels: ['tenant', 'outcome'] },
  { name: 'ampora_agent_telemetry_points_total', type: 'counter', labels: ['tenant'] },
  { name: 'ampora_rollout_analysis_evaluations_total', type: 'counter', labels: ['tenant', 'gate', 'verdict'] },
  { name: 'ampora_connection_settings_offers_total', type: 'counter', labels: ['tenant', 'kind', 'delivery'] },
];

/** What is wrong with one row against the code's catalogue and the scraped families (`asserted`: false for a pending row). */
export function metricRowProblems(row: MetricRow, families: Map<string, { type: string; labelSets: Iterable<string>; samples: Array<{ value: number }> }>): { problems: string[]; asserted: boolean } {
  const problems: string[] = [];
  // the code's catalogue agrees with the contract, for pending rows too
  const code = codeCatalogueRow(row.name);
  if (!code) problems.push(`${row.name}: not in libs/platform/src/telemetry/catalogue.ts`);
  else if (code.type !== row.type || code.labels.join(',') !== row.labels.join(',')) problems.push(`${row.name}: the code says ${code.type} {${code.labels}}`);
  if (row.pending) return { problems, asserted: false };
  const family = families.get(row.name);
  if (!family) return { problems: [...problems, `${row.name}: on no process's /metrics`], asserted: false };
  if (family.type !== row.type) problems.push(`${row.name}: type ${family.type}, expected ${row.type}`);
  const expected = [...row.labels].sort().join(',');
  for (const set of family.labelSets) if (set !== expected) problems.push(`${row.name}: labels {${set}}, expected {${expected}}`);
  // a counter or histogram moved; a gauge has a value (busy connections may well be 0)
  if (row.type === 'gauge' ? family.samples.length === 0 : !family.samples.some((s) => s.value > 0)) problems.push(`${row.name}: no series moved`);
  return { problems, asserted: true };
}

export const CONTRACT_SPANS: SpanRow[] = [
  { name: 'opamp.frame_received', attributes: ['agent.id', 'frame.kind', 'frame.size_bytes'] },
  { name: 'opamp.frame_sent', attributes: ['agent.id', 'frame.kind'] },
  { name: 'opamp.dispatch', attributes: ['dispatch.target_instance', 'dispatch.outcome'] },
  { name: 'opamp.apply_status', attributes: ['agent.id', 'remote_config.status'] },
  { name: 'live_update.publish', attributes: ['event.type', 'tenant'] },
  { name: 'live_update.consume', attributes: ['event.type', 'subscriber'] },
  { name: 'gitops.sync', attributes: ['source.id', 'tip.sha'] },
  { name: 'federation.outbound_call', attributes: ['peer.name', 'endpoint', 'http.status_code'] },
  { name: 'policy.evaluate', attributes: ['policy.name', 'outcome'] },
  { name: 'rollout.tick', attributes: ['rollout.id', 'state'] },
];

/** What the code's catalogue says of a contract metric, in the contract's terms. */
export function codeCatalogueRow(name: string): { type: PromType; labels: string[] } | undefined {
  const def = (METRIC_CATALOGUE as Record<string, { kind: string; labels: readonly string[] }>)[name];
  if (!def) return undefined;
  const type: PromType = def.kind === 'histogram' ? 'histogram' : def.kind === 'counter' ? 'counter' : 'gauge';
  return { type, labels: [...def.labels] };
}

/** The two summary lines the test prints. */
export function summaryLines(metricsAsserted: number, spansAsserted: number): string[] {
  const pendingMetrics = CONTRACT_METRICS.filter((m) => m.pending).length;
  const pendingSpans = CONTRACT_SPANS.filter((s) => s.pending).length;
  return [
    `catalogue metrics: ${metricsAsserted}/${CONTRACT_METRICS.length} asserted, ${pendingMetrics} pending`,
    `catalogue spans: ${spansAsserted}/${CONTRACT_SPANS.length} asserted, ${pendingSpans} pending`,
  ];
}
