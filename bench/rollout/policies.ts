/**
 * bench/rollout --policies N: N Active custom policies (up to 20 distinct ones, over the agent, the
 * configuration and the tenant, each allowing the benchmark's pushes so that the step does the same
 * deliveries) seeded in the database, switched on and off between phases together with the two
 * built-ins, so that a rollout with policies and the same rollout without any run in the same process.
 */
import { Client } from 'pg';

/** The configuration bench/rollout pushes (version n differs from the others by its first line only). */
export const benchYaml = (n: number) =>
  `# bench/rollout version ${n}\nreceivers:\n  otlp:\n    protocols: {grpc: {}, http: {}}\nprocessors:\n  memory_limiter: {check_interval: 1s, limit_percentage: 80}\n  batch: {timeout: 5s}\nexporters:\n  otlp:\n    endpoint: collector.example:4317\nservice:\n  pipelines:\n    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}\n    metrics: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}\n`;

/** Each matches every push of bench/rollout (its config, its agents labelled `host.name: bench-NNNNN`, or `host-xxxxxx` once connected). */
export const BENCH_POLICIES = [
  'contains(config.processorTypes, "memory_limiter")',
  'contains(config.processorTypes, "batch")',
  'not contains(config.exporterTypes, "debug")',
  'contains(config.exporterTypes, "otlp")',
  'contains(config.receiverTypes, "otlp")',
  'exists(config.pipelines.traces) and exists(config.pipelines.metrics)',
  'len(config.exporters) <= 5',
  'len(config.receivers) >= 1 and len(config.processors) <= 10',
  'default(agent.group, "none") != "quarantine"',
  // seeded as bench-NNNNN; a connected bench agent reports its own host.name (host-xxxxxx), which replaces it
  'agent.labels["host.name"] matches "(bench-[0-9]+|host-[0-9a-f]+)"',
  'starts-with(agent.labels["host.name"], "bench-") or starts-with(agent.labels["host.name"], "host-")',
  'not (default(agent.group, "") matches "forbidden-.*")',
  'len(tenant) > 0',
  'config.exporters[0].props.endpoint matches "[a-z.]+:[0-9]+"',
  'not ends-with(config.exporters[0].props.endpoint, ":80")',
  'not (lower(tenant) matches "forbidden-.*")',
  'config.yaml.processors.batch.timeout = "5s"',
  'config.yaml.processors.memory_limiter.limit_percentage <= 90',
  'not contains(agent.capabilities, "ReportsOwnLogs") or default(agent.group, "") != "frozen"',
  'default(agent.labels.environment, "prod") in ("prod", "staging")',
];

/** Inserts `count` policies (Disabled until switched on). */
export async function seedPolicies(pg: Client, tenantId: string, count: number): Promise<void> {
  const expressions = Array.from({ length: count }, (_x, i) => BENCH_POLICIES[i % BENCH_POLICIES.length]!);
  await pg.query(
    `INSERT INTO policies (tenant_id, name, description, expression, status, created_by, created_at, updated_at)
     SELECT $1, 'bench-' || p.n, 'bench/rollout', p.expression, 'Disabled', 'bench', now(), now() FROM unnest($2::text[]) WITH ORDINALITY AS p(expression, n)`,
    [tenantId, expressions],
  );
}

/** Every seeded policy and both built-ins on, or all of them off (required mode either way). */
export async function switchPolicies(pg: Client, tenantId: string, on: boolean): Promise<void> {
  await pg.query(`UPDATE policies SET status = $2, activated_at = CASE WHEN $3 THEN now() END WHERE tenant_id = $1 AND created_by = 'bench'`, [tenantId, on ? 'Active' : 'Disabled', on]);
  await pg.query(
    `INSERT INTO tenant_policy_settings (tenant_id, mode, exporter_swap, insecure_tls_exporter, updated_at) VALUES ($1, 'required', $2, $2, now())
     ON CONFLICT (tenant_id) DO UPDATE SET exporter_swap = $2, insecure_tls_exporter = $2, updated_at = now()`,
    [tenantId, on],
  );
}
