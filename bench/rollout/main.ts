/**
 * bench/rollout — a one-step rollout (strategy Percentage [100]) of a new configuration version to
 * N simulated WebSocket agents (default 10,000), against the built server and worker processes on
 * PostgreSQL and Redis; and, in the same run, the baseline: the same agents receiving a new version
 * of the same configuration through a plain group assignment (PUT /api/groups/{id}/assignment,
 * paced by the worker at AMPORA_FLEET_DISPATCH_RATE = 10,000/s). Phases alternate, each rollout
 * between two assignments (A R A R A by default, A R A with --rounds 1), so drift on a shared machine lands
 * on both sides; figures are medians per side, compared as ratios.
 *
 * Per phase: start → config received at each agent (agent clock, p50/p99, last), push → APPLIED at
 * the server (the `ampora_opamp_apply_duration_seconds` histogram, difference of two scrapes), the
 * moment every agent's row says APPLIED for the new hash, and for the rollout the time from
 * POST /start to state Completed, the engine's own per-target push → Applied (rollout_targets), and
 * where the time of its push loop goes (chunk by chunk).
 *
 *   npm run build && npm run bench:rollout -- [--agents 10000] [--rounds 2] [--tick-ms N] [--push-concurrency N] [--db-parallel-workers N]
 *     [--traces-sampler always_off] [--traces-sampler-arg N]
 *     [--server-node-options "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--worker-node-options "…"]
 *
 * With --policies N (issue 17: 10,000 agents × 20 Active policies), the comparison is a one-step
 * rollout with N custom policies and both built-ins on against the same rollout with none, alternating
 * (A R R+P R R+P R after one group assignment that gives every agent a current config).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPgClient } from '../lib/pg';
import { monotonicUs, nodeOptions, tracesSamplerEnv } from '../lib/profiling';
import { hashToken, mintToken } from '@ampora/platform';
import { freePort, REPO_ROOT, RunningProcess, scrape, startProcess, testEnv, unusedDatabaseName } from '@ampora/testing';
import { forkIpcChild, IpcChild } from '../lib/child';
import { fmt, machine, percentile } from '../lib/stats';
import { cpuSample, cpuUsed } from './cpu';
import { EngineFigures, engineFigures, LATE_MS, median, Phase, report } from './figures';
import { bucketDifference, bucketQuantile, bucketTotal, histogramBuckets } from '../lib/histogram';
import { benchYaml, seedPolicies, switchPolicies } from './policies';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
const AGENTS = Number(option('agents') ?? 10_000);
const ROUNDS = Number(option('rounds') ?? 2);
const TICK_MS = option('tick-ms');
const PUSH_CONCURRENCY = option('push-concurrency');
/** AMPORA_DB_PARALLEL_WORKERS for the server and worker (decision 0429; the product's default when absent). */
const DB_PARALLEL_WORKERS = option('db-parallel-workers');
const POLICIES = Number(option('policies') ?? 0);
/** Node options for the server and the worker (a CPU profile of the phases, say). */
const SERVER_NODE_OPTIONS = nodeOptions(option('server-node-options'));
const WORKER_NODE_OPTIONS = nodeOptions(option('worker-node-options'));
/** OTEL_TRACES_SAMPLER (and its argument) for the server and the worker, as in bench:scale (decision 0280). */
const TRACES_SAMPLER = option('traces-sampler');
const TRACES_SAMPLER_ARG = option('traces-sampler-arg');
const PHASE_TIMEOUT_MS = Number(option('phase-timeout-seconds') ?? 180) * 1000;
const API_POLL_MS = 1000;
const PER_PROCESS = 5_000; // sockets per client process (the limit is 20,000 open files per process)
const CLIENTS = Math.max(2, Math.ceil(AGENTS / PER_PROCESS));
// ReportsStatus | AcceptsRemoteConfig | ReportsEffectiveConfig | ReportsRemoteConfig | ReportsHeartbeat (the test agent's)
const CAPABILITIES = 0x1 | 0x2 | 0x4 | 0x1000 | 0x2000;
const HISTOGRAM = 'ampora_opamp_apply_duration_seconds';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const yaml = benchYaml;

type AgentClient = IpcChild;

const startClient = () => forkIpcChild(join(__dirname, 'agents.ts'), REPO_ROOT);

async function main(): Promise<void> {
  console.log(`bench/rollout: ${AGENTS} agents in ${CLIENTS} client processes, ${POLICIES ? `${2 * ROUNDS + 1} rollouts after one group assignment, every other one with ${POLICIES} policies` : `${ROUNDS} rollout(s) between ${ROUNDS + 1} group assignments`}; ${machine()}`);
  const db = unusedDatabaseName();
  const { env, adminToken } = testEnv(db.url, {
    LOG_LEVEL: 'Warning',
    AMPORA_DB_POOL_MAX: '20',
    AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '3600', // the simulated agents sit idle between pushes
    AMPORA_FLEET_DISPATCH_RATE: '10000',
    AMPORA_FLEET_INLINE_PUSH_MAX: '0', // the baseline pushes from the worker, as the rollout engine does
    AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS: '3600',
    ...(TICK_MS ? { AMPORA_ROLLOUT_TICK_MS: TICK_MS } : {}),
    ...(PUSH_CONCURRENCY ? { AMPORA_ROLLOUT_PUSH_CONCURRENCY: PUSH_CONCURRENCY } : {}),
    ...(DB_PARALLEL_WORKERS ? { AMPORA_DB_PARALLEL_WORKERS: DB_PARALLEL_WORKERS } : {}),
    ...tracesSamplerEnv(TRACES_SAMPLER, TRACES_SAMPLER_ARG),
  });
  const knobs = Object.fromEntries(Object.entries(env).filter(([k]) => /^(AMPORA_(FLEET|ROLLOUT|DB_)|OTEL_TRACES_)/.test(k)));
  console.log(`  settings: ${JSON.stringify(knobs)} (rollout knobs not listed: the engine's defaults)`);
  let server: RunningProcess | undefined;
  let worker: RunningProcess | undefined;
  const clients: AgentClient[] = [];
  const pg = benchPgClient(db.url);
  try {
    // --- the server (creates and migrates the database), then the worker ---------------------------
    const port = await freePort();
    server = startProcess('server', { ...env, AMPORA_HTTP_PORT: String(port), AMPORA_INSTANCE_ID: 'bench-server' }, [], SERVER_NODE_OPTIONS);
    const base = `http://127.0.0.1:${port}`;
    for (let t = 0; ; t++) {
      if (await fetch(`${base}/health/ready`).then((r) => r.ok, () => false)) break;
      if (t > 600 || server.child.exitCode !== null) throw new Error(`the server did not become ready:\n${server.stderr.join('')}\n${server.lines.slice(-20).join('\n')}`);
      await sleep(100);
    }
    worker = startProcess('worker', { ...env, LOG_LEVEL: 'Information', AMPORA_AUTO_MIGRATE: 'false', AMPORA_INSTANCE_ID: 'bench-worker' }, [], WORKER_NODE_OPTIONS);
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 60_000);
    await pg.connect();

    const api = async <T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
    };
    const must = async <T = any>(method: string, path: string, body?: unknown): Promise<T> => {
      const r = await api<T>(method, path, body);
      if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    };

    // --- the fleet: a Static group, N agents in it with bootstrap tokens already bound to them -----
    // (enrolment is not what this measures: seeding the rows skips N redemption transactions)
    const tenantId = (await pg.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0]!.id;
    const group = await must<{ id: string }>('POST', '/api/groups', { name: 'bench-rollout', kind: 'Static' });
    const fleet = Array.from({ length: AGENTS }, (_x, i) => ({ id: randomUUID(), uid: randomUUID(), tokenId: randomUUID(), token: mintToken('amp-bs'), host: `bench-${String(i).padStart(5, '0')}` }));
    const agentIdByUid = new Map(fleet.map((a) => [a.uid.replace(/-/g, ''), a.id]));
    const seedStarted = now();
    for (let i = 0; i < fleet.length; i += 5000) {
      const part = fleet.slice(i, i + 5000);
      await pg.query(
        `INSERT INTO agents (id, tenant_id, instance_uid, identity_kind, bootstrap_token_id, group_id, group_pinned, capabilities, labels, display_name)
         SELECT a.id, $1, a.uid, 'token', a.token_id, $2, true, $3, jsonb_build_object('host.name', a.host), a.host
         FROM unnest($4::uuid[], $5::uuid[], $6::uuid[], $7::text[]) AS a(id, uid, token_id, host)`,
        [tenantId, group.id, CAPABILITIES, part.map((a) => a.id), part.map((a) => a.uid), part.map((a) => a.tokenId), part.map((a) => a.host)],
      );
      await pg.query(
        `INSERT INTO bootstrap_tokens (id, tenant_id, label, token_hash, created_by, expires_at, redeemed_at, agent_id)
         SELECT t.id, $1, 'bench-rollout', t.hash, 'bench', now() + interval '1 day', now(), t.agent_id
         FROM unnest($2::uuid[], $3::text[], $4::uuid[]) AS t(id, hash, agent_id)`,
        [tenantId, part.map((a) => a.tokenId), part.map((a) => hashToken(a.token)), part.map((a) => a.id)],
      );
    }
    await pg.query('ANALYZE agents');
    console.log(`  seeded ${AGENTS} agents (bound bootstrap tokens, one Static group) in ${fmt((now() - seedStarted) / 1000, 1)} s`);

    // --- the agents connect ------------------------------------------------------------------------
    for (let i = 0; i < CLIENTS; i++) clients.push(await startClient());
    const url = `ws://127.0.0.1:${port}/v1/opamp`;
    const connectStarted = now();
    const connected = await Promise.all(
      clients.map((c, i) =>
        c.request<{ connected: number; failed: number; firstError?: string; connectMs: number[] }>(
          { cmd: 'connect', url, agents: fleet.filter((_a, j) => j % CLIENTS === i).map((a) => ({ uid: a.uid, token: a.token })), concurrency: 100 },
          'connected',
        ),
      ),
    );
    const connectedTotal = connected.reduce((n, c) => n + c.connected, 0);
    const connectMs = connected.flatMap((c) => c.connectMs);
    console.log(
      `  ${connectedTotal} / ${AGENTS} agents connected in ${fmt((now() - connectStarted) / 1000, 1)} s (p50 ${fmt(percentile(connectMs, 50))} ms, p99 ${fmt(percentile(connectMs, 99))} ms)` +
        (connected.some((c) => c.failed) ? `; ${connected.reduce((n, c) => n + c.failed, 0)} failed: ${connected.find((c) => c.firstError)?.firstError}` : ''),
    );
    if (connectedTotal < AGENTS) throw new Error('not every agent connected');
    for (let t = 0; ; t++) {
      const n = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE group_id = $1 AND connected`, [group.id])).rows[0]!.n;
      if (n === AGENTS) break;
      if (t > 300) throw new Error(`only ${n} of ${AGENTS} agents are recorded as connected`);
      await sleep(100);
    }

    // --- the configuration: one Published version per phase ----------------------------------------
    const configuration = await must<{ id: string }>('POST', '/api/configurations', { name: 'bench-rollout' });
    const plan: Array<Phase['kind']> = ['assignment'];
    // --policies: rollouts only after the first assignment, every other one with the policies on
    if (POLICIES) for (let i = 0; i <= 2 * ROUNDS; i++) plan.push('rollout');
    else for (let i = 0; i < ROUNDS; i++) plan.push('rollout', 'assignment');
    // phase 1 is the group assignment (never with policies); of the rollouts (phases 2, 3, …) every other one, from the second
    const withPolicies = (index: number) => (POLICIES && index > 1 && index % 2 === 1 ? POLICIES : 0);
    if (POLICIES) await seedPolicies(pg, tenantId, POLICIES);
    const hashes = new Map<number, string>();
    for (let i = 0; i < plan.length; i++) {
      const v = await must<{ number: number }>('POST', `/api/configurations/${configuration.id}/versions`, { yaml: yaml(i + 1) });
      await must('POST', `/api/configurations/${configuration.id}/versions/${v.number}/publish`);
      const { rows } = await pg.query<{ config_hash: string }>(`SELECT config_hash FROM configuration_versions WHERE configuration_id = $1 AND number = $2`, [configuration.id, v.number]);
      hashes.set(v.number, rows[0]!.config_hash.trim());
    }

    const agentCount = async (hash: string) => (await Promise.all(clients.map((c) => c.request<{ n: number }>({ cmd: 'count', hash }, 'count')))).reduce((n, r) => n + r.n, 0);
    /** The PostgreSQL backends serving the benchmark's database (the server's, the worker's and this one's pools). */
    const backends = async () => (await pg.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)).rows.map((r) => r.pid);
    const appliedInDb = async (hash: string) =>
      (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE group_id = $1 AND remote_config_status = 'APPLIED' AND remote_config_hash = $2`, [group.id, hash])).rows[0]!.n;
    /**
     * Whether every agent row of the group says APPLIED for the hash. The poll stops at the first row
     * that does not, so it costs the database little until the end (a count of the 10,000 rows every
     * 100 ms took a few percent of PostgreSQL's time in the phase it measures).
     */
    const allAppliedInDb = async (hash: string) =>
      (
        await pg.query<{ open: boolean }>(
          `SELECT EXISTS (SELECT 1 FROM agents WHERE group_id = $1 AND (remote_config_status IS DISTINCT FROM 'APPLIED' OR remote_config_hash IS DISTINCT FROM $2)) AS open`,
          [group.id, hash],
        )
      ).rows[0]!.open === false;

    /** Both kinds: start, then wait for every agent, every row (and Completed), measuring. */
    const runPhase = async (kind: Phase['kind'], index: number, version: number): Promise<Phase> => {
      const hash = hashes.get(version)!;
      if (kind === 'assignment') {
        // a completed rollout hands its agents back to the group; if not, they could not take the group's version
        const moved = await pg.query(`UPDATE agents SET assignment_source = 'group' WHERE group_id = $1 AND assignment_source <> 'group'`, [group.id]);
        if (moved.rowCount) console.log(`    (${moved.rowCount} agents still had assignment_source ≠ 'group' after the rollout; set back to 'group' for the baseline)`);
      }
      let rolloutId: string | undefined;
      if (POLICIES) await switchPolicies(pg, tenantId, withPolicies(index) > 0);
      if (kind === 'rollout') {
        const created = await must<{ id: string; state: string }>('POST', '/api/rollouts', {
          name: `bench ${index}`,
          configurationId: configuration.id,
          version,
          groupId: group.id,
          strategy: { type: 'Percentage', steps: [100] },
          autoAdvance: true,
          dwellSeconds: 0,
        });
        rolloutId = created.id;
      }
      await sleep(1000);
      const before = histogramBuckets(await scrape(base), HISTOGRAM);
      const pids = { server: server!.child.pid!, worker: worker!.child.pid!, agents: clients.map((c) => c.child.pid!), postgres: await backends() };
      const cpu0 = cpuSample(pids);
      const t0 = now();
      const fromUs = monotonicUs();
      const call = kind === 'assignment' ? await must('PUT', `/api/groups/${group.id}/assignment`, { configurationId: configuration.id, version }) : await must('POST', `/api/rollouts/${rolloutId}/start`);
      const callMs = now() - t0;
      let allReceivedMs = NaN;
      let allAppliedInDbMs = NaN;
      let completedSeenByApiMs = NaN;
      let stepSettledMs = NaN;
      let finalState: string | undefined;
      let lastApiPoll = 0;
      let lastProgress = t0;
      let timedOut = false;
      const getMs: number[] = [];
      for (;;) {
        const t = now();
        if (Number.isNaN(allReceivedMs) && (await agentCount(hash)) >= AGENTS) allReceivedMs = now() - t0;
        if (Number.isNaN(allAppliedInDbMs) && (await allAppliedInDb(hash))) allAppliedInDbMs = now() - t0;
        if (rolloutId && Number.isNaN(completedSeenByApiMs) && t - lastApiPoll >= API_POLL_MS) {
          lastApiPoll = t;
          const g0 = now();
          const r = await api<{ state: string; waitingFor: string | null; counts: Record<string, number>; gate: unknown; steps?: Array<{ settledAt: string | null }> }>('GET', `/api/rollouts/${rolloutId}`);
          getMs.push(now() - g0);
          finalState = r.body?.state;
          const settledAt = r.body?.steps?.[0]?.settledAt;
          if (settledAt) stepSettledMs = Date.parse(settledAt) - t0;
          if (t - lastProgress >= 5000) {
            lastProgress = t;
            const c = r.body?.counts ?? {};
            console.log(`    t+${fmt((t - t0) / 1000, 1)} s: ${finalState}, waiting for ${r.body?.waitingFor}; pending ${c.pending}, applying ${c.applying}, applied ${c.applied}, failed ${c.failed}, skipped ${c.skipped}`);
          }
          if (finalState && !['Pending', 'InProgress'].includes(finalState)) {
            completedSeenByApiMs = now() - t0;
            if (finalState !== 'Completed') console.log(`    the rollout ended in ${finalState}: ${JSON.stringify(r.body?.gate)}`);
          }
        }
        if (!Number.isNaN(allReceivedMs) && !Number.isNaN(allAppliedInDbMs) && (!rolloutId || !Number.isNaN(completedSeenByApiMs))) break;
        if (now() - t0 > PHASE_TIMEOUT_MS) {
          timedOut = true;
          console.log(`    timed out after ${PHASE_TIMEOUT_MS / 1000} s: agents ${await agentCount(hash)}, rows APPLIED ${await appliedInDb(hash)}, state ${finalState}`);
          break;
        }
        await sleep(100);
      }
      const windowUs = { from: fromUs, to: monotonicUs() };
      const cpu = { ...cpuUsed(cpu0, cpuSample({ ...pids, postgres: [...new Set([...pids.postgres, ...(await backends())])] })), wallSeconds: (now() - t0) / 1000 };
      const parts = await Promise.all(clients.map((c) => c.request<{ times: number[]; uids: string[] }>({ cmd: 'times', hash }, 'times')));
      const receivedAt = new Map<string, number>(); // agent id → receipt (ms after t0)
      for (const p of parts) p.uids.forEach((uid, k) => receivedAt.set(agentIdByUid.get(uid) ?? uid, p.times[k]! - t0));
      const times = [...receivedAt.values()];
      await sleep(1500); // the last APPLIED statuses are in the histogram
      const applied = bucketDifference(histogramBuckets(await scrape(base), HISTOGRAM), before);
      const first = Math.min(...times);
      const last = Math.max(...times);
      const phase: Phase = {
        kind,
        index,
        version,
        callMs,
        call: kind === 'assignment' ? { changedAgents: (call as any).changedAgents, dispatch: { mode: (call as any).dispatch?.mode, pacedJobs: (call as any).dispatch?.pacedJobs } } : { state: (call as any).state },
        received: times.length,
        receivedMs: { first, p50: percentile(times, 50), p99: percentile(times, 99), last },
        reachPerSecond: (times.length - 1) / ((last - first) / 1000),
        allAppliedInDbMs,
        serverPushToApplied: { count: bucketTotal(applied), p50Ms: bucketQuantile(applied, 0.5) * 1000, p99Ms: bucketQuantile(applied, 0.99) * 1000 },
        cpu,
        windowUs,
        timedOut,
        ...(kind === 'rollout' && POLICIES ? { policies: withPolicies(index) } : {}),
      };
      if (rolloutId) {
        phase.finalState = finalState;
        phase.completedSeenByApiMs = completedSeenByApiMs;
        phase.apiGetMs = { p50: median(getMs), max: Math.max(...getMs), calls: getMs.length };
        const { rows: [r] } = await pg.query<{ state: string; started: number; finished: number | null }>(
          `SELECT state, extract(epoch FROM started_at) * 1000 AS started, extract(epoch FROM finished_at) * 1000 AS finished FROM rollouts WHERE id = $1`,
          [rolloutId],
        );
        phase.finalState = r?.state ?? finalState;
        phase.completedMs = r?.finished ? Number(r.finished) - t0 : NaN;
        phase.engine = await engineFigures(pg, rolloutId, t0, receivedAt, r?.started ? Number(r.started) - t0 : NaN, stepSettledMs);
      }
      report(phase);
      await sleep(2000); // what follows the phase (the group's assignment after Completed) settles
      return phase;
    };

    const rolloutsThere = (await api('GET', '/api/rollouts')).status === 200;
    if (!rolloutsThere) console.log('\n  GET /api/rollouts is not there (no rollout engine in this build): measuring the baseline only');
    const phases: Phase[] = [];
    for (const [i, kind] of plan.entries()) {
      if (kind === 'rollout' && !rolloutsThere) continue;
      const label = kind === 'rollout' ? `one-step rollout (Percentage [100])${POLICIES ? (withPolicies(i + 1) ? `, ${POLICIES} policies + 2 built-ins` : ', no policies') : ''}` : 'group assignment (baseline)';
      console.log(`\n  phase ${i + 1}/${plan.length}: ${label} of version ${i + 1}`);
      phases.push(await runPhase(kind, i + 1, i + 1));
    }

    // --- summary: medians per side, rollout / assignment -------------------------------------------
    // a side: the group assignments, the rollouts (without policies), the rollouts with policies (--policies)
    type Side = Phase['kind'] | 'policies';
    const sideOf = (p: Phase): Side => (p.kind === 'rollout' && p.policies ? 'policies' : p.kind);
    const [baseSide, other]: [Side, Side] = POLICIES ? ['rollout', 'policies'] : ['assignment', 'rollout'];
    const med = (side: Side, f: (p: Phase) => number | undefined) => median(phases.filter((p) => sideOf(p) === side).map((p) => f(p) ?? NaN));
    const rows: Array<[string, (p: Phase) => number | undefined]> = [
      ['start → config at the agent, p50 (ms)', (p) => p.receivedMs.p50],
      ['start → config at the agent, p99 (ms)', (p) => p.receivedMs.p99],
      ['start → config at the last agent (ms)', (p) => p.receivedMs.last],
      ['agents reached per second', (p) => p.reachPerSecond],
      ['push → APPLIED at the server, p50 (ms, histogram)', (p) => p.serverPushToApplied.p50Ms],
      ['push → APPLIED at the server, p99 (ms, histogram)', (p) => p.serverPushToApplied.p99Ms],
      ['start → every agent row APPLIED (ms)', (p) => p.allAppliedInDbMs],
      ['start → done: Completed / every row APPLIED (ms)', (p) => (p.kind === 'rollout' ? p.completedMs : p.allAppliedInDbMs)],
      ['CPU seconds: server', (p) => p.cpu.server],
      ['CPU seconds: worker', (p) => p.cpu.worker],
      ['CPU seconds: PostgreSQL (backends of the benchmark database)', (p) => p.cpu.postgres],
      ['CPU seconds: simulated agents', (p) => p.cpu.agents],
      ['CPU seconds: rest of the machine', (p) => p.cpu.others],
    ];
    if (POLICIES) rows.unshift(['start → first push recorded (ms; the step\'s push-time checks come first)', (p) => p.engine?.firstPushMs]);
    const nA = phases.filter((p) => sideOf(p) === baseSide).length;
    const nR = phases.filter((p) => sideOf(p) === other).length;
    const names = POLICIES ? ['one-step rollout, no policies (baseline)', `the same with ${POLICIES} policies + 2 built-ins`, 'policies / baseline'] : ['group assignment (baseline)', 'one-step rollout', 'rollout / baseline'];
    console.log(`\n  ${AGENTS} agents; medians of ${nA} ${names[0]} and ${nR} ${names[1]}; times from the start call`);
    console.log(`  | figure | ${names.join(' | ')} |`);
    console.log('  | --- | --- | --- | --- |');
    const summary: Record<string, { assignment: number; rollout: number; ratio: number }> = {};
    for (const [label, f] of rows) {
      const a = med(baseSide, f);
      const r = med(other, f);
      summary[label] = { assignment: a, rollout: r, ratio: r / a };
      console.log(`  | ${label} | ${fmt(a)} | ${fmt(r)} | ${fmt(r / a, 2)}× |`);
    }
    if (nR) {
      const e = (f: (x: EngineFigures) => number) => med('rollout', (p) => (p.engine ? f(p.engine) : NaN));
      console.log(
        `  engine (rollout_targets): push → Applied p50 ${fmt(e((x) => x.pushToAppliedMs.p50))} ms, p99 ${fmt(e((x) => x.pushToAppliedMs.p99))} ms; ` +
          `${fmt(e((x) => x.lateApplied), 0)} targets recorded Applied > ${LATE_MS / 1000} s after their push; pushes ${fmt(e((x) => x.firstPushMs))} → ${fmt(e((x) => x.lastPushMs))} ms; ` +
          `last Applied recorded ${fmt(e((x) => x.lastAppliedMs))} ms; step settled ${fmt(e((x) => x.stepSettledMs))} ms`,
      );
      console.log(
        `  after the last push: ${fmt(e((x) => x.lastAppliedMs - x.lastPushMs))} ms until the last Applied was recorded, ${fmt(e((x) => x.stepSettledMs - x.lastAppliedMs))} ms more until the step settled, ` +
          `${fmt(med('rollout', (p) => (p.completedMs ?? NaN) - (p.engine?.stepSettledMs ?? NaN)))} ms more until Completed; Completed came ${fmt(med('rollout', (p) => (p.completedMs ?? NaN) - p.allAppliedInDbMs))} ms after every agent row said APPLIED`,
      );
      console.log(
        `  engine push loop: ${fmt(e((x) => x.chunks.count), 0)} chunks of ${fmt(e((x) => x.chunks.size), 0)}, one every ${fmt(e((x) => x.chunks.cycleMs))} ms (median): ` +
          `${fmt(e((x) => x.chunks.beforeFirstReceiptMs))} ms until its first agent has the config (assignment transaction, lease), ${fmt(e((x) => x.chunks.receiptSpreadMs))} ms from its first to its last agent, ` +
          `${fmt(e((x) => x.chunks.afterLastReceiptMs))} ms from the last agent to the recorded push (answers, UPDATE)`,
      );
      console.log(`  rollouts ended: ${phases.filter((p) => p.kind === 'rollout').map((p) => p.finalState).join(', ')}; GET /api/rollouts/{id} p50 ${fmt(med('rollout', (p) => p.apiGetMs?.p50))} ms (every ${API_POLL_MS} ms)`);
    }

    const dir = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `rollout-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ agents: AGENTS, rounds: ROUNDS, settings: knobs, connectMs: { p50: percentile(connectMs, 50), p99: percentile(connectMs, 99) }, phases, summary, machine: machine() }, null, 2));
    console.log(`\n  results written to ${file}`);
  } finally {
    await Promise.all(clients.map((c) => Promise.race([c.request({ cmd: 'close' }, 'closed'), sleep(3000)])));
    for (const c of clients) c.child.kill();
    await pg.end().catch(() => undefined);
    await worker?.stop();
    await server?.stop();
    await db.drop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
