/**
 * bench/groups: reconcile dynamic groups over 50,000 agents (and 10,000, Ampora's published figure)
 * generated in PostgreSQL, and evaluate the Ampora language on their labels.
 *
 *   npm run bench:groups            (BENCH_AGENTS=50000 BENCH_RUNS=5 to change the defaults)
 *
 * Prints, for each fleet size: the initial placement pass (every agent joins a group; versions are
 * materialised on the rows), then the median steady-state pass (nothing to move) against a baseline
 * measured in the same run: reading and decoding the same agents without evaluating anything.
 * Then the language alone, in memory: evaluations per second and p50/p99 per evaluation, against a
 * hand-written JavaScript predicate doing the same tests. Results also go to bench/results/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { Expression } from '@ampora/dsl';
import { ConfigurationsService, FleetModule, GroupReconciler, GroupsService } from '@ampora/fleet';
import { configureLogging, PlatformModule, Principal, RequestContext, startTelemetry } from '@ampora/platform';
import { GovernanceModule, Role } from '@ampora/governance';
import { createTestDatabase, REPO_ROOT, testEnv } from '@ampora/testing';
import globalSetup from '../../libs/testing/src/global-setup';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

const SELECTORS: Array<[string, number]> = [
  ['environment = "prod" and region in ("eu-central-1", "eu-west-1")', 50],
  ['service.name matches "checkout-[0-9]+" and environment != "dev"', 40],
  ['starts-with(k8s.namespace.name, "payments") and tier = "edge"', 30],
  ['region = "us-east-1" and not (tier = "core")', 20],
  ['ends-with(host.name, "-7") or canary = true', 10],
  ['lower(team) = "observability"', 5],
  ['region = "ap-south-1"', 1],
  ['environment in ("staging", "dev")', 0],
];

/** The same tests as SELECTORS, by hand, for the baseline of the in-memory comparison. */
const NATIVE: Array<(l: Record<string, unknown>) => boolean> = [
  (l) => l.environment === 'prod' && (l.region === 'eu-central-1' || l.region === 'eu-west-1'),
  (l) => /^(?:checkout-[0-9]+)$/.test(String(l['service.name'])) && l.environment !== 'dev',
  (l) => String((l['k8s.namespace.name'] as string) ?? '').startsWith('payments') && l.tier === 'edge',
  (l) => l.region === 'us-east-1' && !(l.tier === 'core'),
  (l) => String(l['host.name']).endsWith('-7') || l.canary === true,
  (l) => typeof l.team === 'string' && l.team.toLowerCase() === 'observability',
  (l) => l.region === 'ap-south-1',
  (l) => l.environment === 'staging' || l.environment === 'dev',
];

const YAML = `receivers:\n  otlp:\n    protocols: {grpc: {}, http: {}}\nprocessors:\n  memory_limiter: {check_interval: 1s, limit_percentage: 80}\n  batch: {timeout: 5s}\nexporters:\n  otlp:\n    endpoint: collector.example:4317\nservice:\n  pipelines:\n    traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}\n    metrics: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}\n`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function main(): Promise<void> {
  configureLogging({ level: 'Warning' });
  await globalSetup();
  const db = await createTestDatabase();
  const { config } = testEnv(db.url, { LOG_LEVEL: 'Warning', AMPORA_DB_POOL_MAX: '10' });
  startTelemetry(config, 'worker');
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule, FleetModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  const ds = app.get(DataSource);
  const reconciler = app.get(GroupReconciler);
  const results: Record<string, unknown> = {
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: (await ds.query('SHOW server_version'))[0].server_version },
    agents: AGENTS,
    runs: RUNS,
  };
  try {
    for (const size of [...new Set([10_000, AGENTS])]) {
      const tenantId = await fleet(ds, app.get(GroupsService), app.get(ConfigurationsService), size);
      process.stdout.write(`\n== ${size.toLocaleString('en')} agents, ${SELECTORS.length} dynamic groups ==\n`);
      const initial = await reconciler.reconcileTenant(tenantId);
      process.stdout.write(`initial placement pass : ${ms(initial.durationMs)} (${initial.moved.toLocaleString('en')} agents moved, ${Math.round((size / initial.durationMs) * 1000).toLocaleString('en')} agents/s)\n`);

      const scan: number[] = [];
      const steady: number[] = [];
      const evals: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        scan.push(await scanOnly(ds, tenantId));
        const s = await reconciler.reconcileTenant(tenantId, { observe: (t) => evals.push(t) });
        if (s.moved !== 0) throw new Error(`a steady-state pass moved ${s.moved} agents`);
        steady.push(s.durationMs);
      }
      const sorted = Float64Array.from(evals).sort();
      const row = {
        initialMs: initial.durationMs,
        initialAgentsPerSecond: Math.round((size / initial.durationMs) * 1000),
        steadyMedianMs: median(steady),
        steadyAgentsPerSecond: Math.round((size / median(steady)) * 1000),
        baselineScanMedianMs: Math.round(median(scan)),
        ratioToBaseline: Number((median(steady) / median(scan)).toFixed(2)),
        evaluations: evals.length,
        evalP50Ms: Number(percentile(sorted, 50).toFixed(4)),
        evalP99Ms: Number(percentile(sorted, 99).toFixed(4)),
        evalMaxMs: Number(sorted[sorted.length - 1]!.toFixed(3)),
      };
      results[`reconcile${size}`] = row;
      process.stdout.write(
        `steady pass (median of ${RUNS}) : ${ms(row.steadyMedianMs)} = ${row.steadyAgentsPerSecond.toLocaleString('en')} agents/s\n` +
          `baseline: read + decode only : ${ms(row.baselineScanMedianMs)} (steady pass / baseline = ${row.ratioToBaseline}×)\n` +
          `selector evaluations          : ${row.evaluations.toLocaleString('en')}, p50 ${row.evalP50Ms} ms, p99 ${row.evalP99Ms} ms, max ${row.evalMaxMs} ms\n`,
      );
    }

    // the language alone, in memory, against the same tests written by hand
    const labels: Array<Record<string, unknown>> = (await ds.query(`SELECT labels FROM agents LIMIT $1`, [AGENTS])).map((r: { labels: Record<string, unknown> }) => r.labels);
    const compiled = SELECTORS.map(([s]) => {
      const c = Expression.compile(s);
      if (!c.ok) throw new Error(c.error.message);
      return c.expression;
    });
    const dslRuns: number[] = [];
    const nativeRuns: number[] = [];
    let matchesDsl = 0;
    let matchesNative = 0;
    // one warm-up round of each, then timed rounds (whole loops, no per-evaluation clock reads)
    for (let run = 0; run <= RUNS; run++) {
      let t0 = performance.now();
      let m = 0;
      for (const l of labels) for (const e of compiled) if (e.evaluate(l).matched) m++;
      if (run > 0) dslRuns.push(performance.now() - t0);
      matchesDsl = m;
      t0 = performance.now();
      m = 0;
      for (const l of labels) for (const f of NATIVE) if (f(l)) m++;
      if (run > 0) nativeRuns.push(performance.now() - t0);
      matchesNative = m;
    }
    // one more round timing each evaluation, for the percentiles
    const perEval = new Float64Array(labels.length * compiled.length);
    let k = 0;
    for (const l of labels) {
      for (const e of compiled) {
        const a = performance.now();
        e.evaluate(l);
        perEval[k++] = performance.now() - a;
      }
    }
    if (matchesDsl !== matchesNative) throw new Error(`the language and the native predicates disagree: ${matchesDsl} vs ${matchesNative} matches`);
    perEval.sort();
    const evaluations = labels.length * compiled.length;
    const language = {
      evaluations,
      medianMs: Math.round(median(dslRuns)),
      evaluationsPerSecond: Math.round((evaluations / median(dslRuns)) * 1000),
      agentsPerSecond: Math.round((labels.length / median(dslRuns)) * 1000),
      p50Ms: Number(percentile(perEval, 50).toFixed(4)),
      p99Ms: Number(percentile(perEval, 99).toFixed(4)),
      nativeBaselineMedianMs: Number(median(nativeRuns).toFixed(1)),
      ratioToNative: Number((median(dslRuns) / median(nativeRuns)).toFixed(1)),
    };
    results.language = language;
    process.stdout.write(
      `\n== the language, in memory: ${labels.length.toLocaleString('en')} label sets × ${compiled.length} selectors ==\n` +
        `median of ${RUNS} : ${ms(language.medianMs)} = ${language.evaluationsPerSecond.toLocaleString('en')} evaluations/s (${language.agentsPerSecond.toLocaleString('en')} agents/s against all ${compiled.length} selectors)\n` +
        `per evaluation   : p50 ${language.p50Ms} ms, p99 ${language.p99Ms} ms\n` +
        `baseline: the same tests as hand-written JavaScript: ${ms(language.nativeBaselineMedianMs)} (language / native = ${language.ratioToNative}×)\n`,
    );
    const dir = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `groups-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    process.stdout.write(`\nmachine: ${JSON.stringify(results.machine)}\nresults: ${file}\n`);
  } finally {
    await app.close();
    await db.drop();
  }
}

/** A tenant with `size` agents (one INSERT ... SELECT generate_series) and the dynamic groups, each assigned a version. */
async function fleet(ds: DataSource, groups: GroupsService, configurations: ConfigurationsService, size: number): Promise<string> {
  const [{ id: tenantId }] = await ds.query(`INSERT INTO tenants (name, display_name) VALUES ($1, $1) RETURNING id`, [`bench-${size}`]);
  await ds.query(
    `INSERT INTO agents (tenant_id, instance_uid, identity_kind, capabilities, labels)
     SELECT $1, gen_random_uuid(), 'token', 4099, jsonb_build_object(
       'service.name', CASE WHEN n % 4 = 0 THEN 'checkout-' || (n % 50) ELSE 'svc-' || (n % 200) END,
       'service.version', '1.' || (n % 20) || '.0',
       'host.name', 'node-' || n,
       'region', (ARRAY['eu-central-1', 'eu-west-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'sa-east-1'])[1 + n % 6],
       'environment', (ARRAY['prod', 'prod', 'staging', 'dev'])[1 + n % 4],
       'tier', (ARRAY['edge', 'core', 'gateway'])[1 + n % 3],
       'k8s.namespace.name', (ARRAY['payments', 'payments-eu', 'search', 'catalog', 'default'])[1 + n % 5],
       'canary', n % 97 = 0
     ) || CASE WHEN n % 10 = 0 THEN jsonb_build_object('team', 'Observability') ELSE '{}'::jsonb END
     FROM generate_series(1, $2) AS n`,
    [tenantId, size],
  );
  await ds.query('ANALYZE agents');
  const operator: Principal = { kind: 'system', tenantId, tenantName: `bench-${size}`, role: Role.Operator, actor: 'bench' };
  await RequestContext.run({ principal: operator, tenantId }, async () => {
    const c = await configurations.create(operator, { name: 'bench' });
    const v = await configurations.createVersion(operator, c.id, YAML);
    await configurations.publish(operator, c.id, v.number);
    for (const [i, [selector, priority]] of SELECTORS.entries()) {
      const g = await groups.create(operator, { name: `dyn-${i}`, kind: 'Dynamic', selector, priority });
      await groups.setAssignment(operator, g.id, { configurationId: c.id, version: v.number });
    }
  });
  return tenantId;
}

/** The baseline: the reconciler's reads (the same query: every unpinned agent, labels decoded), without evaluating. */
async function scanOnly(ds: DataSource, tenantId: string): Promise<number> {
  const t0 = performance.now();
  let after: string | null = null;
  let n = 0;
  for (;;) {
    const page: Array<{ id: string; labels: unknown }> = await ds.query(
      `SELECT id, labels, group_id, group_pinned FROM agents WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) AND NOT group_pinned ORDER BY id LIMIT 5000`,
      [tenantId, after],
    );
    n += page.length;
    if (page.length < 5000) break;
    after = page[page.length - 1]!.id;
  }
  if (n === 0) throw new Error('no agents');
  return performance.now() - t0;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
