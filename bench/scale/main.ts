/**
 * bench/scale (issue 23) — how Ampora's costs grow with the fleet, on one instance (default 18,000
 * agents) or several (`--instances 3 --agents 50000`), against the targets of the issue:
 *
 *  1. live WebSocket agents enrolled and heartbeating at the default interval: server RSS per session,
 *     heartbeat round trip p99 over the hold, sessions lost, database writes per agent per flush;
 *  2. frames/s through the full stack against a bare `ws` + decode server, same clients, same run;
 *  3. sessions owned evenly by leases, a push to any agent from any instance delivered, a steady
 *     dynamic-group reconcile pass over every agent;
 *  4. a one-step rollout to every agent, start → Completed, and the plain group push, start → every
 *     agent row APPLIED, with the agents reached per second;
 *  5. enrolment rate (bootstrap-token redemption) and a reconnect storm after a restart of every
 *     instance (time to settle, pool busy against the pool size, requests over their timeout);
 *  6. the figures at 1k, 5k, 10k and 18k agents (growth table, and a PNG plotted from the JSON results);
 *  7. the interop suite's opamp-go load generator drives part of the fleet (`--loadgen N`).
 *
 * The servers, the worker, the simulated agents (5,000 per process: the limit here is 20,000 open files
 * per process) and the opamp-go load generator are separate processes on the same machine.
 *
 *   npm run build && npm run bench:scale -- --agents 18000 [--instances 3] [--hold-seconds 600]
 *        [--loadgen 5000] [--rounds 2] [--closed-loop-seconds 9] [--steps 1000,5000,10000,18000]
 *        [--server-node-options "--cpu-prof --cpu-prof-dir=/tmp/prof"] [--worker-node-options "…"] [--client-node-options "…"] [--client ws|lean] [--traces-sampler parentbased_traceidratio --traces-sampler-arg 0.01]
 *   npm run bench:scale -- --plot bench/results/scale-….json     (the PNG again, from a results file)
 *
 * Exit code 2 when a figure misses its target by more than the noise measured in the run, 1 on error.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import type { Client } from 'pg';
import { benchPgClient } from '../lib/pg';
import { monotonicUs, nodeOptions, tracesSamplerEnv } from '../lib/profiling';
import { hashToken, mintToken } from '@ampora/platform';
import { freePort, REPO_ROOT, RunningProcess, scrape, startProcess, testEnv, unusedDatabaseName } from '@ampora/testing';
import { forkIpcChild, IpcChild, TS_EXEC_ARGV } from '../lib/child';
import { cpuSeconds, cpuSecondsOf, fmt, loadAverage, machine, percentile, rssBytes } from '../lib/stats';
import { benchYaml } from '../rollout/policies';
import { Loadgen, loadgenBinary, startLoadgen } from './loadgen';
import { plotPanels } from './png';
import { Figure, judge, Judged, medianOf, table } from './verdict';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
const num = (name: string, fallback: number) => Number(option(name) ?? fallback);

const AGENTS = num('agents', 18_000);
const INSTANCES = num('instances', 1);
const HOLD_SECONDS = num('hold-seconds', 600);
const HEARTBEAT_SECONDS = num('heartbeat-seconds', 30); // the default AMPORA_OPAMP_HEARTBEAT_INTERVAL_SECONDS
const CLOSED_LOOP_SECONDS = num('closed-loop-seconds', 9);
const WINDOWS = 3;
const ROUNDS = num('rounds', 2);
const LOADGEN = Math.min(num('loadgen', AGENTS >= 10_000 ? 5000 : 0), AGENTS);
const PER_PROCESS = num('per-process', 5000);
const POOL_MAX = num('pool-max', 10);
const PUSH_SAMPLES = num('push-samples', 300);
const STORM_TIMEOUT_S = num('storm-timeout-seconds', 120);
/** Item 4's fleet: "a 10,000-agent one-step rollout Completed in under 5 s" (and the group push beside it). */
const ITEM4_AGENTS = 10_000;
const PHASE_TIMEOUT_MS = num('phase-timeout-seconds', 300) * 1000;
const STEPS = [...new Set([...(option('steps') ?? '1000,5000,10000,18000').split(',').map(Number).filter((n) => n > 0 && n < AGENTS), AGENTS])].sort((a, b) => a - b);
const TRACES_SAMPLER = option('traces-sampler'); // e.g. parentbased_traceidratio (with --traces-sampler-arg 0.01): decision 0280
const TRACES_SAMPLER_ARG = option('traces-sampler-arg');
const SERVER_NODE_OPTIONS = nodeOptions(option('server-node-options'));
const WORKER_NODE_OPTIONS = nodeOptions(option('worker-node-options'));
const CLIENT_NODE_OPTIONS = nodeOptions(option('client-node-options'));
const FLUSH_MS = 1000; // AMPORA_OPAMP_FLUSH_INTERVAL_MS, the default
/**
 * Enrolments in flight per client process (as the storm's reconnects, 1000): a real fleet enrols open
 * loop, each agent on its own; with 200 the last step's 3,000 protobufjs agents waited on their own
 * client behind the 5,000 opamp-go agents that all start at once, and the step measured the client.
 */
const CONCURRENCY = num('enrol-concurrency', 1000);
/** The protobufjs agents' WebSocket client: the `ws` library's, or bench/scale/lean-socket.ts (decision 0445). */
const CLIENT = option('client') ?? 'ws';
if (CLIENT !== 'lean' && CLIENT !== 'ws') throw new Error(`--client is lean or ws, not ${CLIENT}`);
process.env.AMPORA_BENCH_CLIENT = CLIENT; // the client processes inherit it

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();
const log = (line: string) => console.log(line);

function nextEvent<T>(c: IpcChild, event: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: { event: string }) => {
      if (m.event !== event) return;
      c.child.off('message', on);
      resolve(m as T);
    };
    c.child.on('message', on);
  });
}

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The counts of `ampora_db_query_duration_seconds` by statement label, summed over its other labels. */
function statementCounts(metrics: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('ampora_db_query_duration_seconds_count{')) continue;
    const query = /query="((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '?';
    counts.set(query, (counts.get(query) ?? 0) + Number(line.slice(line.lastIndexOf('}') + 1).trim().split(' ')[0]));
  }
  return counts;
}

/** Sum of the counts of `ampora_db_query_duration_seconds` whose statement writes (insert, update, delete). */
function writeStatements(metrics: string): number {
  let n = 0;
  for (const [query, count] of statementCounts(metrics)) if (/^(insert|update|delete)( |$)/.test(query)) n += count;
  return n;
}

function gauge(metrics: string, name: string): number {
  let n = 0;
  for (const line of metrics.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) n += Number(line.slice(line.lastIndexOf('}') + 1).trim().split(' ')[0]);
  return n;
}

interface GrowthRow {
  agents: number;
  enrolPerSecond: number;
  rssMiB: number;
  rssPerSessionKiB: number;
  /** RSS added per session since the previous step. */
  rssMarginalKiB: number;
  framesPerSecond: number;
  cpuUsPerFrame: number;
  groupPushMs: number;
  groupPushReachPerSecond: number;
  rolloutCompletedMs: number;
  rolloutReachPerSecond: number;
  loadAverage: number;
}

interface Results {
  agents: number;
  instances: number;
  loadgen: number;
  holdSeconds: number;
  settings: Record<string, string>;
  growth: GrowthRow[];
  figures: Judged[];
  loadAverage: { start: number; end: number };
  machine: string;
  startedAt: string;
}

function plot(results: Results, file: string): void {
  const g = results.growth;
  const png = plotPanels(
    [
      { title: 'SERVER RSS (MIB)', series: [{ name: 'RSS, ALL INSTANCES', color: [31, 119, 180], points: g.map((r) => [r.agents, r.rssMiB]) }] },
      { title: 'FRAMES/S (CLOSED LOOP)', series: [{ name: 'FULL STACK', color: [44, 160, 44], points: g.map((r) => [r.agents, r.framesPerSecond]) }] },
      {
        title: 'PUSH TO EVERY AGENT (S)',
        series: [
          { name: 'ROLLOUT COMPLETED', color: [214, 39, 40], points: g.map((r) => [r.agents, r.rolloutCompletedMs / 1000]) },
          { name: 'GROUP PUSH APPLIED', color: [148, 103, 189], points: g.map((r) => [r.agents, r.groupPushMs / 1000]) },
        ],
      },
    ],
    'AGENTS',
  );
  writeFileSync(file, png);
}

async function main(): Promise<void> {
  const plotFrom = option('plot');
  if (plotFrom) {
    const out = plotFrom.replace(/\.json$/, '.png');
    plot(JSON.parse(readFileSync(plotFrom, 'utf8')) as Results, out);
    log(`plot written to ${out}`);
    return;
  }
  const startedAt = new Date().toISOString();
  const loadStart = loadAverage();
  log(`bench/scale: ${AGENTS} agents (${LOADGEN} of them opamp-go, the rest protobufjs on the ${CLIENT} WebSocket client) on ${INSTANCES} instance(s); steps ${STEPS.join(', ')}; hold ${HOLD_SECONDS} s; load average ${fmt(loadStart, 2)}; ${machine()}`);
  const db = unusedDatabaseName();
  const { env, adminToken } = testEnv(db.url, {
    LOG_LEVEL: 'Warning',
    AMPORA_DB_POOL_MAX: String(POOL_MAX),
    AMPORA_FLEET_DISPATCH_RATE: '10000',
    AMPORA_FLEET_INLINE_PUSH_MAX: '0',
    AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS: '3600', // the bench runs the reconcile passes itself
    AMPORA_LIMITS_SESSIONS_PER_TENANT: '0',
    AMPORA_OPAMP_TOKEN_REISSUE: 'false',
    ...tracesSamplerEnv(TRACES_SAMPLER, TRACES_SAMPLER_ARG),
  });
  const settings = Object.fromEntries(Object.entries(env).filter(([k]) => /^(AMPORA_(FLEET|ROLLOUT|DB_POOL|OPAMP|LIMITS_SESSIONS)|OTEL_TRACES)/.test(k)));
  log(`  settings: ${JSON.stringify(settings)}`);
  const servers: Array<{ process: RunningProcess; port: number; id: string; base: string }> = [];
  let worker: RunningProcess | undefined;
  const swarms: Array<{ c: IpcChild; held: number }> = [];
  const loadgens: Loadgen[] = [];
  const pg = benchPgClient(db.url);
  const figures: Figure[] = [];
  const growth: GrowthRow[] = [];
  const startServer = async (i: number, port: number) => {
    const id = `scale-${i}`;
    const proc = startProcess('server', { ...env, AMPORA_INSTANCE_ID: id, AMPORA_HTTP_PORT: String(port) }, [], SERVER_NODE_OPTIONS);
    const base = `http://127.0.0.1:${port}`;
    await until(`instance ${id} to be ready`, 300_000, async () => {
      if (proc.child.exitCode !== null) throw new Error(`instance ${id} exited:\n${proc.stderr.join('')}\n${proc.lines.slice(-20).join('\n')}`);
      return fetch(`${base}/health/ready`).then((r) => r.ok || undefined, () => undefined);
    }, 200);
    return { process: proc, port, id, base };
  };
  try {
    for (let i = 0; i < INSTANCES; i++) servers.push(await startServer(i, await freePort())); // the first migrates
    worker = startProcess('worker', { ...env, LOG_LEVEL: 'Information', AMPORA_AUTO_MIGRATE: 'false', AMPORA_INSTANCE_ID: 'scale-worker' }, [], WORKER_NODE_OPTIONS);
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 180_000);
    await pg.connect();
    const api = async <T = any>(method: string, path: string, body?: unknown, instance = 0): Promise<T> => {
      const res = await fetch(`${servers[instance]!.base}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 500)}`);
      return (text ? JSON.parse(text) : undefined) as T;
    };
    const scrapeAll = () => Promise.all(servers.map((s) => scrape(s.base)));
    /** CPU seconds so far of the servers, the worker, PostgreSQL and the client processes (a process that ended counts 0). */
    const cpuNow = () => {
      const of = (pid: number | undefined) => {
        try {
          return pid ? cpuSeconds(pid) : 0;
        } catch {
          return 0;
        }
      };
      const opampGo = loadgens.reduce((n, l) => n + of(l.child.pid), 0);
      return {
        server: servers.reduce((n, s) => n + of(s.process.child.pid), 0),
        worker: of(worker?.child.pid),
        postgres: cpuSecondsOf('postgres'),
        clients: swarms.reduce((n, s) => n + of(s.c.child.pid), 0) + opampGo,
        opampGo,
      };
    };
    /** CPU per agent between two readings of `cpuNow`, in milliseconds, as one line. */
    const cpuPerAgent = (a: ReturnType<typeof cpuNow>, b: ReturnType<typeof cpuNow>, agents: number) => {
      const kinds = ['server', 'worker', 'postgres', 'clients'] as const;
      const ms = (k: keyof typeof a) => ((b[k] - a[k]) * 1000) / Math.max(1, agents);
      const go = ms('opampGo');
      const clients = go > 0 ? ` (opamp-go ${fmt(go, 2)}, protobufjs ${fmt(ms('clients') - go, 2)})` : '';
      return `${kinds.map((k) => `${k} ${fmt(ms(k), 2)}`).join(', ')}${clients} ms (all ${fmt(kinds.reduce((n, k) => n + ms(k), 0), 2)} ms)`;
    };
    /** The statements every instance has run so far, by label (an instance that does not answer counts none). */
    const statementsNow = async () => statementCounts((await Promise.all(servers.map((s) => scrape(s.base).catch(() => '')))).join('\n'));
    /** Statements by label as one line: the total, per agent, and the six most frequent. */
    const statementLine = (counts: Iterable<[string, number]>, agents: number) => {
      const list = [...counts].sort((x, y) => y[1] - x[1]);
      const total = list.reduce((n, [, c]) => n + c, 0);
      return `${total} (${fmt(total / agents, 3)} per agent); most: ${list.slice(0, 6).map(([query, n]) => `${n} × ${query}`).join('; ')}`;
    };
    const tenantId = (await pg.query<{ id: string }>(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0]!.id;
    const group = await api<{ id: string }>('POST', '/api/groups', { name: 'bench-scale', kind: 'Static' });
    const configuration = await api<{ id: string }>('POST', '/api/configurations', { name: 'bench-scale' });
    let versions = 0;
    const publish = async () => {
      const v = await api<{ number: number }>('POST', `/api/configurations/${configuration.id}/versions`, { yaml: benchYaml(++versions) });
      await api('POST', `/api/configurations/${configuration.id}/versions/${v.number}/publish`);
      const { rows } = await pg.query<{ config_hash: string }>(`SELECT config_hash FROM configuration_versions WHERE configuration_id = $1 AND number = $2`, [configuration.id, v.number]);
      return { number: v.number, hash: rows[0]!.config_hash.trim() };
    };
    await sleep(2000);
    const rssBase = servers.map((s) => rssBytes(s.process.child.pid!));
    const lg = LOADGEN > 0 ? loadgenBinary() : undefined;
    if (LOADGEN > 0 && !lg) throw new Error('--loadgen: the opamp-go load generator is not built (node scripts/interop-build.js needs go) and not in ~/.cache/ampora-interop');

    let held = 0; // agents enrolled so far
    let swarmAgents = 0;
    const wsUrl = (i: number) => `ws://127.0.0.1:${servers[i % INSTANCES]!.port}/v1/opamp`;
    const appliedInDb = async (hash: string) =>
      (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE remote_config_status = 'APPLIED' AND remote_config_hash = $1`, [hash])).rows[0]!.n;
    /** Where the agents are when a push does not reach all of them. */
    const breakdown = async (hash: string) =>
      (
        await pg.query<{ kind: string; connected: boolean; status: string | null; current: boolean; leased: boolean; n: number }>(
          `SELECT CASE WHEN a.display_name LIKE 'host-lg%' THEN 'opamp-go' ELSE 'protobufjs' END AS kind, a.connected, a.remote_config_status AS status,
                  a.remote_config_hash = $1 AS current, o.agent_id IS NOT NULL AS leased, count(*)::int AS n
           FROM agents a LEFT JOIN agent_session_ownership o ON o.agent_id = a.id GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5`,
          [hash],
        )
      ).rows
        .map((r) => `    ${r.kind} connected=${r.connected} leased=${r.leased} status=${r.status} this-version=${r.current}: ${r.n}`)
        .join('\n');
    const receipts = async (hash: string, t0: number) => {
      const parts = await Promise.all(swarms.map((s) => s.c.request<{ times: number[] }>({ cmd: 'times', hash }, 'times')));
      const times = parts.flatMap((p) => p.times).map((t) => t - t0);
      return { n: times.length, last: Math.max(0, ...times), p50: percentile(times, 50) };
    };

    // ---------------------------------------------------------------------------------------------
    let enrol = { value: NaN, samples: [] as number[] };
    let enrolRetries = 0;
    let finalClosedLoop: { fps: number[]; cpuUs: number } | undefined;
    /** Item 4's samples per step: the issue's target is for 10,000 agents, the last step's are reported too. */
    const pushSamples = new Map<number, { rolloutMs: number[]; groupPushMs: number[]; rolloutReach: number[]; groupReach: number[] }>();
    for (const size of STEPS) {
      const delta = size - held;
      const viaLoadgen = size === AGENTS ? LOADGEN : 0;
      const viaSwarm = delta - viaLoadgen;
      log(`\n== ${size.toLocaleString('en-US')} agents (+${delta}: ${viaSwarm} protobufjs, ${viaLoadgen} opamp-go); load average ${fmt(loadAverage(), 2)} ==`);
      const tokens = Array.from({ length: delta }, () => mintToken('amp-bs'));
      await pg.query(
        `INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, group_id, created_by, expires_at) SELECT $1, 'bench-scale', h, $2, 'bench', now() + interval '1 day' FROM unnest($3::text[]) AS t(h)`,
        [tenantId, group.id, tokens.map(hashToken)],
      );
      // the protobufjs agents: fill the client processes up to PER_PROCESS, start more when needed
      const plans = new Map<IpcChild, Array<{ url: string; token: string }>>();
      for (let k = 0; k < viaSwarm; k++) {
        let s = swarms.find((x) => x.held < PER_PROCESS);
        if (!s) swarms.push((s = { c: await forkIpcChild(join(__dirname, 'swarm.ts'), REPO_ROOT, CLIENT_NODE_OPTIONS), held: 0 }));
        s.held++;
        const list = plans.get(s.c) ?? [];
        list.push({ url: wsUrl(swarmAgents + k), token: tokens[k]! });
        plans.set(s.c, list);
      }
      const lgTokens = tokens.slice(viaSwarm);
      const statementsBefore = await statementsNow();
      const t0 = now();
      const cpuBefore = cpuNow();
      const enrolFromUs = monotonicUs();
      const started = loadgens.length;
      for (let i = 0; i < INSTANCES && lgTokens.length; i++) {
        const mine = lgTokens.filter((_t, k) => k % INSTANCES === i);
        if (mine.length) loadgens.push(startLoadgen(lg!, wsUrl(i), mine, HEARTBEAT_SECONDS, `host-lg${i}`));
      }
      const [parts, lgParts] = await Promise.all([
        Promise.all([...plans].map(([c, list]) => c.request<{ connected: number; failed: number; retried: number; firstError?: string; elapsedMs: number }>({ cmd: 'connect', agents: list, concurrency: CONCURRENCY, heartbeatMs: HEARTBEAT_SECONDS * 1000 }, 'connected'))),
        Promise.all(loadgens.slice(started).map((l) => l.next('connected', PHASE_TIMEOUT_MS))),
      ]);
      const seconds = (now() - t0) / 1000;
      const failed = parts.reduce((n, p) => n + p.failed, 0);
      const retried = parts.reduce((n, p) => n + p.retried, 0);
      enrolRetries += retried;
      if (retried) {
        log(`  ${retried} enrolment attempts were refused or failed and retried (${parts.find((p) => p.firstError)?.firstError}); the server said:`);
        for (const s of servers) for (const line of s.process.lines.filter((l) => /"(Error|Warning)"/.test(l)).slice(-3)) log(`    ${s.id}: ${line.slice(0, 400)}`);
      }
      if (failed) throw new Error(`${failed} agents failed to enrol after 5 attempts: ${parts.find((p) => p.firstError)?.firstError}`);
      swarmAgents += viaSwarm;
      held = size;
      const rate = delta / seconds;
      // noise: each client process's own rate, scaled by the number of processes enrolling at once
      const shares = [...parts.map((p) => (p.connected / p.elapsedMs) * 1000), ...lgParts.map((e) => (e.summary.connected / e.summary.elapsed_ms) * 1000)];
      enrol = { value: rate, samples: shares.map((x) => (x * rate) / shares.reduce((a, b) => a + b, 0) * shares.length) };
      const enrolToUs = monotonicUs();
      const cpuAfter = cpuNow();
      log(`  enrolled ${delta} in ${fmt(seconds, 1)} s = ${fmt(rate)} agents/s (from ${enrolFromUs} to ${enrolToUs} µs of the monotonic clock, as in CPU profiles)`);
      // each client's own part: which one the step waited for
      const byClient = [
        ...parts.map((p, i) => `protobufjs ${i + 1}: ${p.connected} in ${fmt(p.elapsedMs / 1000, 1)} s`),
        ...lgParts.map((e, i) => `opamp-go ${i + 1}: ${e.summary.connected} in ${fmt(e.summary.elapsed_ms / 1000, 1)} s (${e.summary.connects} connects)`),
      ];
      log(`  by client: ${byClient.join('; ')}`);
      const stepStatements = [...(await statementsNow())].map(([query, n]): [string, number] => [query, n - (statementsBefore.get(query) ?? 0)]).filter(([, n]) => n > 0);
      log(`  CPU per enrolled agent: ${cpuPerAgent(cpuBefore, cpuAfter, delta)}`);
      log(`  statements while they enrolled: ${statementLine(stepStatements, delta)}`);
      await until('every agent recorded connected', 120_000, async () => {
        const n = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE connected`)).rows[0]!.n;
        return n >= size || undefined;
      }, 250);
      await sleep(3000); // the writer flushes, the heap settles
      const rss = servers.map((s) => rssBytes(s.process.child.pid!));
      const rssMiB = rss.reduce((a, b) => a + b, 0) / 2 ** 20;
      const rssPerSessionKiB = (rss.reduce((a, b) => a + b, 0) - rssBase.reduce((a, b) => a + b, 0)) / 1024 / size;
      const prevRow = growth[growth.length - 1];
      const marginalKiB = prevRow ? ((rssMiB - prevRow.rssMiB) * 1024) / delta : NaN;
      log(`  server RSS ${fmt(rssMiB)} MiB = ${fmt(rssPerSessionKiB)} KiB per session over the idle server (${fmt(marginalKiB)} KiB per added session since the last step)`);

      // closed loop (item 2; the heartbeat timers pause meanwhile)
      const cpu0 = servers.map((s) => cpuSeconds(s.process.child.pid!));
      const loops = await Promise.all(swarms.map((s) => s.c.request<{ frames: number[]; seconds: number[] }>({ cmd: 'closed-loop', windows: WINDOWS, windowMs: (CLOSED_LOOP_SECONDS * 1000) / WINDOWS }, 'closed-loop')));
      const cpuUsed = servers.reduce((n, s, i) => n + cpuSeconds(s.process.child.pid!) - cpu0[i]!, 0);
      const fps = Array.from({ length: WINDOWS }, (_x, w) => loops.reduce((n, l) => n + l.frames[w]!, 0) / Math.max(...loops.map((l) => l.seconds[w]!)));
      const frames = loops.reduce((n, l) => n + l.frames.reduce((a, b) => a + b, 0), 0);
      const cpuUs = (cpuUsed * 1e6) / Math.max(1, frames);
      log(`  closed loop: ${fps.map((f) => fmt(f)).join(' / ')} frames/s (${WINDOWS} windows), server CPU ${fmt(cpuUs)} µs per frame`);
      if (size === AGENTS) finalClosedLoop = { fps, cpuUs };

      // item 4: group push (baseline) and one-step rollout, alternating
      const row: GrowthRow = { agents: size, enrolPerSecond: rate, rssMiB, rssPerSessionKiB, rssMarginalKiB: marginalKiB, framesPerSecond: medianOf(fps), cpuUsPerFrame: cpuUs, groupPushMs: NaN, groupPushReachPerSecond: NaN, rolloutCompletedMs: NaN, rolloutReachPerSecond: NaN, loadAverage: loadAverage() };
      const gp: number[] = [];
      const gr: number[] = [];
      const ro: number[] = [];
      const rr: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // the baseline: PUT /api/groups/{id}/assignment, done when every agent row says APPLIED
        await pg.query(`UPDATE agents SET assignment_source = 'group' WHERE group_id = $1 AND assignment_source <> 'group'`, [group.id]);
        let v = await publish();
        let t = now();
        let mono = monotonicUs();
        await api('PUT', `/api/groups/${group.id}/assignment`, { configurationId: configuration.id, version: v.number });
        const hashA = v.hash;
        const doneA = await until('every agent APPLIED (group push)', PHASE_TIMEOUT_MS, async () => ((await appliedInDb(hashA)) >= size ? now() - t : undefined), 250).catch(async (error: unknown) => {
          log(`  ${String(error)}; the agents by kind, connection and status:\n${await breakdown(hashA)}`);
          return Infinity; // a push that did not reach every agent misses any target
        });
        const recA = await receipts(hashA, t);
        gp.push(doneA);
        gr.push(size / (doneA / 1000));
        log(`  group push ${r + 1}: every row APPLIED after ${fmt(doneA / 1000, 2)} s (${size} agents: ${fmt(size / (doneA / 1000))} agents/s; protobufjs agents reached p50 ${fmt(recA.p50)} ms, last ${fmt(recA.last)} ms; started at ${mono} µs of the monotonic clock, as in CPU profiles)`);
        await sleep(1500);
        // the rollout: Percentage [100], auto-advance, no dwell; done at Completed
        v = await publish();
        const rollout = await api<{ id: string }>('POST', '/api/rollouts', { name: `scale ${size} ${r}`, configurationId: configuration.id, version: v.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] }, autoAdvance: true, dwellSeconds: 0 });
        t = now();
        mono = monotonicUs();
        await api('POST', `/api/rollouts/${rollout.id}/start`);
        const fin = await until('the rollout to end', PHASE_TIMEOUT_MS, async () => {
          const { rows } = await pg.query<{ state: string; finished: string | null }>(`SELECT state, extract(epoch FROM finished_at) * 1000 AS finished FROM rollouts WHERE id = $1`, [rollout.id]);
          return rows[0] && !['Pending', 'InProgress'].includes(rows[0].state) ? rows[0] : undefined;
        }).catch(async (error: unknown) => {
          log(`  ${String(error)}; the agents by kind, connection and status:\n${await breakdown(v.hash)}`);
          await api('POST', `/api/rollouts/${rollout.id}/abort`).catch(() => undefined);
          return { state: 'timed out', finished: null };
        });
        if (fin.state !== 'Completed') log(`  the rollout ended ${fin.state}`);
        const doneR = fin.state === 'Completed' ? Number(fin.finished) - t : Infinity;
        const applied = await appliedInDb(v.hash);
        const targets = (await pg.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM rollout_targets WHERE rollout_id = $1 GROUP BY state ORDER BY state`, [rollout.id])).rows;
        const appliedTargets = targets.find((x) => x.state === 'Applied')?.n ?? 0;
        const recR = await receipts(v.hash, t);
        ro.push(doneR);
        rr.push(appliedTargets / (doneR / 1000));
        log(
          `  rollout ${r + 1}: ${fin.state} after ${fmt(doneR / 1000, 2)} s (targets ${targets.map((x) => `${x.state} ${x.n}`).join(', ')}: ${fmt(appliedTargets / (doneR / 1000))} agents/s; ` +
            `${applied} rows APPLIED at that moment, the state writer flushes every ${FLUSH_MS} ms; protobufjs agents reached p50 ${fmt(recR.p50)} ms, last ${fmt(recR.last)} ms; started at ${mono} µs of the monotonic clock)`,
        );
        if (fin.state === 'Completed' && appliedTargets < size) log(`  the rollout Completed with ${size - appliedTargets} of its ${size} targets not Applied`);
        await sleep(1500);
      }
      row.groupPushMs = medianOf(gp);
      row.groupPushReachPerSecond = medianOf(gr);
      row.rolloutCompletedMs = medianOf(ro);
      row.rolloutReachPerSecond = medianOf(rr);
      growth.push(row);
      if (size === AGENTS || size === ITEM4_AGENTS) pushSamples.set(size, { rolloutMs: ro, groupPushMs: gp, rolloutReach: rr, groupReach: gr });
    }
    const lastRow = growth[growth.length - 1]!;

    // --- item 1: the hold at the default heartbeat interval ---------------------------------------
    log(`\n== hold: ${AGENTS} agents heartbeating every ${HEARTBEAT_SECONDS} s for ${HOLD_SECONDS} s; load average ${fmt(loadAverage(), 2)} ==`);
    await Promise.all(swarms.map((s) => s.c.request({ cmd: 'phase', name: 'hold' }, 'phase')));
    const sessionsBefore = gauge((await scrapeAll()).join('\n'), 'ampora_opamp_active_sessions');
    const writes: number[] = [];
    let prev = writeStatements((await scrapeAll()).join('\n'));
    const holdWindows = 3;
    for (let w = 0; w < holdWindows; w++) {
      await sleep((HOLD_SECONDS * 1000) / holdWindows);
      const cur = writeStatements((await scrapeAll()).join('\n'));
      writes.push(cur - prev);
      prev = cur;
    }
    const flushes = (HOLD_SECONDS * 1000) / holdWindows / FLUSH_MS;
    const perAgentPerFlush = writes.map((n) => n / AGENTS / flushes);
    const statuses = await Promise.all(swarms.map((s) => s.c.request<{ open: number; of: number; lost: number }>({ cmd: 'status' }, 'status')));
    const sessionsAfter = gauge((await scrapeAll()).join('\n'), 'ampora_opamp_active_sessions');
    const lostClient = statuses.reduce((n, s) => n + s.lost, 0);
    const lost = Math.max(lostClient, sessionsBefore - sessionsAfter, AGENTS - sessionsAfter);
    const rttParts = await Promise.all(swarms.map((s) => s.c.request<{ samples: number[] }>({ cmd: 'rtts', name: 'hold' }, 'rtts')));
    const rtt = rttParts.flatMap((p) => p.samples);
    log(`  heartbeats ${rtt.length}: p50 ${fmt(percentile(rtt, 50))} ms, p99 ${fmt(percentile(rtt, 99))} ms; sessions ${sessionsBefore} → ${sessionsAfter} (client side lost ${lostClient}); write statements ${writes.join(' / ')} (${(medianOf(perAgentPerFlush)).toExponential(2)} per agent per flush)`);
    figures.push(
      { item: 1, name: 'live sessions held', unit: 'sessions', samples: [sessionsAfter], target: { op: '>=', value: AGENTS }, note: `${AGENTS - LOADGEN} protobufjs + ${LOADGEN} opamp-go agents` },
      { item: 1, name: 'server RSS per session', unit: 'KiB', samples: [lastRow.rssPerSessionKiB], target: { op: '<=', value: 30 }, baseline: '21 KiB at 5,000 agents (bench:opamp, 2026-11-25)', note: `(RSS − RSS of the idle server) ÷ sessions: ${fmt(lastRow.rssMiB)} MiB over ${INSTANCES} instance(s); ${fmt(lastRow.rssMarginalKiB)} KiB per session added since the previous step` },
      { item: 1, name: 'heartbeat round trip p99 over the hold', unit: 'ms', value: percentile(rtt, 99), samples: rttParts.map((p) => percentile(p.samples, 99)), target: { op: '<', value: 50 }, note: `p50 ${fmt(percentile(rtt, 50))} ms, ${rtt.length} heartbeats; noise from the client processes` },
      { item: 1, name: 'sessions lost over the hold', unit: 'sessions', samples: [lost], target: { op: '==', value: 0 } },
      { item: 1, name: 'database writes per agent per flush interval', unit: 'statements', samples: perAgentPerFlush, target: { op: '<=', value: 1 }, note: `${fmt(medianOf(writes) / flushes, 2)} write statements per ${FLUSH_MS} ms flush (ampora_db_query_duration_seconds, insert/update/delete)` },
    );

    // --- item 1 (the pushed config) and item 7 --------------------------------------------------
    // none with --rounds 0 (nothing was pushed): both figures are then left out
    const lastHash = (await pg.query<{ h: string }>(`SELECT config_hash AS h FROM configuration_versions WHERE configuration_id = $1 ORDER BY number DESC LIMIT 1`, [configuration.id])).rows[0]?.h.trim();
    const withConfig = lastHash ? await appliedInDb(lastHash) : 0;
    if (lastHash) figures.push({ item: 1, name: 'agents without the pushed config', unit: 'agents', samples: [AGENTS - withConfig], target: { op: '==', value: 0 }, note: `${withConfig} rows APPLIED for the last version` });
    if (LOADGEN > 0 && lastHash) {
      const lgApplied = (await pg.query<{ n: number }>(`SELECT count(*)::int AS n FROM agents WHERE display_name LIKE 'host-lg%' AND remote_config_status = 'APPLIED' AND remote_config_hash = $1`, [lastHash])).rows[0]!.n;
      figures.push({ item: 7, name: 'opamp-go agents (interop loadgen) that applied the last push', unit: 'agents', samples: [lgApplied], target: { op: '>=', value: 5000, fromAgents: 18_000 }, note: `${LOADGEN} opamp-go agents in the run` });
    }

    // --- item 3: leases, pushes from every instance, dynamic-group reconcile ----------------------
    log(`\n== ownership, pushes from any instance, dynamic-group reconcile; load average ${fmt(loadAverage(), 2)} ==`);
    const owned = (await pg.query<{ instance_id: string; n: number }>(`SELECT instance_id, count(*)::int AS n FROM agent_session_ownership GROUP BY instance_id ORDER BY instance_id`)).rows;
    const ownedCounts = servers.map((s) => owned.find((o) => o.instance_id === s.id)?.n ?? 0);
    const meanOwned = ownedCounts.reduce((a, b) => a + b, 0) / INSTANCES;
    log(`  sessions owned by lease: ${servers.map((s, i) => `${s.id} ${ownedCounts[i]}`).join(', ')}`);
    if (INSTANCES > 1) figures.push({ item: 3, name: 'lease imbalance (max − min) / mean', unit: '', samples: [(Math.max(...ownedCounts) - Math.min(...ownedCounts)) / meanOwned], target: { op: '<=', value: 0.05 }, note: ownedCounts.join(' / ') });
    const idRows = (await pg.query<{ id: string; uid: string; owner: string | null }>(`SELECT a.id, replace(a.instance_uid::text, '-', '') AS uid, o.instance_id AS owner FROM agents a LEFT JOIN agent_session_ownership o ON o.agent_id = a.id WHERE a.display_name NOT LIKE 'host-lg%'`)).rows;
    const sample = Array.from({ length: Math.min(PUSH_SAMPLES, idRows.length) }, (_x, k) => idRows[Math.floor((k * idRows.length) / Math.min(PUSH_SAMPLES, idRows.length))]!);
    const pushedAt = new Map<string, number>();
    let forwarded = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < sample.length) {
          const k = next++;
          const a = sample[k]!;
          const instance = k % INSTANCES;
          if (a.owner && a.owner !== servers[instance]!.id) forwarded++;
          pushedAt.set(a.uid, Date.now());
          await api('POST', `/api/agents/${a.id}/assign`, { yaml: `# push ${k}\n${benchYaml(0)}` }, instance);
        }
      }),
    );
    let undelivered = sample.length;
    await until('the sampled pushes to arrive', 30_000, async () => {
      const at = Object.assign({}, ...(await Promise.all(swarms.map((s) => s.c.request<{ at: Record<string, number> }>({ cmd: 'last-config' }, 'last-config')))).map((p) => p.at)) as Record<string, number>;
      undelivered = sample.filter((a) => !((at[a.uid] ?? 0) >= pushedAt.get(a.uid)!)).length;
      return undelivered === 0 || undefined;
    }, 500).catch(() => undefined);
    log(`  ${sample.length} pushes through POST /api/agents/{id}/assign, round robin over the instances (${forwarded} to an agent another instance holds): ${undelivered} not delivered`);
    figures.push({ item: 3, name: 'pushes from any instance not delivered', unit: 'pushes', samples: [undelivered], target: { op: '==', value: 0 }, note: `${sample.length} pushes, ${forwarded} forwarded over the backplane` });

    // the dynamic group: every agent leaves the static group, one pass places them, then steady passes
    const reconcile = await reconcilePasses(env, tenantId, pg, group.id, async () => api('POST', '/api/groups', { name: 'bench-scale-dynamic', kind: 'Dynamic', selector: 'starts-with(host.name, "host-")' }));
    log(`  dynamic-group reconcile of ${AGENTS}: initial ${fmt(reconcile.initialMs)} ms (${reconcile.moved} moved), steady ${reconcile.steadyMs.map((m) => fmt(m)).join(' / ')} ms`);
    figures.push({ item: 3, name: 'dynamic-group reconcile, steady pass', unit: 's', samples: reconcile.steadyMs.map((m) => m / 1000), target: { op: '<', value: 3 }, baseline: '1.50 s at 50,000 agents without sessions (bench:groups, 2026-11-25)', note: `initial placement ${fmt(reconcile.initialMs / 1000, 2)} s, ${reconcile.evaluated} agents evaluated` });

    // --- item 4 ---------------------------------------------------------------------------------------
    // the targets are the issue's, for 10,000 agents: judged at that step; the last step is reported
    // beside it without a target, and a run without a 10,000-agent step does not judge item 4
    for (const [size, p] of [...pushSamples].sort((a, b) => a[0] - b[0])) {
      const judgedHere = size === ITEM4_AGENTS;
      const at = ` at ${size.toLocaleString('en-US')} agents`;
      figures.push(
        { item: 4, name: `one-step rollout: start → Completed${at}`, unit: 's', samples: p.rolloutMs.map((m) => m / 1000), ...(judgedHere ? { target: { op: '<', value: 5 } } : {}), baseline: '11–21 s at 10,000 agents (bench:rollout, 2026-11-25/26)' },
        { item: 4, name: `group push: start → every row APPLIED${at}`, unit: 's', samples: p.groupPushMs.map((m) => m / 1000), ...(judgedHere ? { target: { op: '<', value: 5 } } : {}), baseline: '9.9–19.4 s at 10,000 agents (bench:rollout)' },
        { item: 4, name: `rollout: agents reached per second${at}`, unit: 'agents/s', samples: p.rolloutReach, baseline: '540–980 agents/s' },
        { item: 4, name: `group push: agents reached per second${at}`, unit: 'agents/s', samples: p.groupReach, baseline: '568–1,160 agents/s' },
      );
    }

    // --- item 5: enrolment rate and the reconnect storm -------------------------------------------
    figures.push({ item: 5, name: 'enrolment (bootstrap-token redemption)', unit: 'agents/s', value: enrol.value, samples: enrol.samples, target: { op: '>=', value: 1000 }, baseline: '177 agents/s at 5,000 (bench:opamp, 2026-11-25)', note: 'the last step; noise from the client processes' });
    figures.push({ item: 5, name: 'enrolment attempts refused or failed (retried)', unit: 'attempts', samples: [enrolRetries], target: { op: '==', value: 0 }, note: 'every step; a refusal is a request that did not finish in its time' });
    log(`\n== reconnect storm: every instance restarts; load average ${fmt(loadAverage(), 2)} ==`);
    await Promise.all(swarms.map((s) => s.c.request({ cmd: 'storm', concurrency: 1000, timeoutMs: STORM_TIMEOUT_S * 1000 }, 'storm-armed')));
    const stormDone = Promise.all(swarms.map((s) => nextEvent<{ reconnected: number; of: number; lastAt: number; reconnectedAt: number[]; timeline: Array<[number, number, number, number]>; failures: Array<[number, string]>; attempts: number; refused: number; timeouts: number; firstError?: string }>(s.c, 'storm')));
    const killedAt = Date.now();
    await Promise.all(servers.map((s) => s.process.stop()));
    for (let i = 0; i < INSTANCES; i++) servers[i] = await startServer(i, servers[i]!.port);
    const readyAt = Date.now();
    const stormCpuBefore = cpuNow();
    let busyMax = 0;
    let openMax = 0;
    let sessionsNow = 0;
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        const texts = await Promise.all(servers.map((s) => scrape(s.base).catch(() => '')));
        busyMax = Math.max(busyMax, ...texts.map((t) => gauge(t, 'ampora_db_pool_busy_connections')));
        openMax = Math.max(openMax, ...texts.map((t) => gauge(t, 'ampora_db_pool_open_connections')));
        sessionsNow = texts.reduce((n, t) => n + gauge(t, 'ampora_opamp_active_sessions'), 0);
        await sleep(250);
      }
    })();
    const storm = await stormDone;
    const settledSessions = await until('every session back (opamp-go agents included)', STORM_TIMEOUT_S * 1000, async () => (sessionsNow >= AGENTS ? Date.now() : undefined), 250).catch(() => NaN);
    const stormCpuAfter = cpuNow();
    monitoring = false;
    await monitor;
    const stormLast = Math.max(...storm.map((s) => s.lastAt), Number.isFinite(settledSessions) ? settledSessions : 0);
    const reconnected = storm.reduce((n, s) => n + s.reconnected, 0);
    const timeouts = storm.reduce((n, s) => n + s.timeouts, 0);
    const swarmLast = Math.max(...storm.map((s) => s.lastAt));
    log(`  restart took ${fmt((readyAt - killedAt) / 1000, 1)} s; ${reconnected} / ${AGENTS - LOADGEN} protobufjs agents back ${fmt((swarmLast - readyAt) / 1000, 1)} s after the instances were ready, every session (opamp-go too: ${sessionsNow}) after ${fmt(((Number.isFinite(settledSessions) ? settledSessions : NaN) - readyAt) / 1000, 1)} s; ${storm.reduce((n, s) => n + s.attempts, 0)} attempts, ${storm.reduce((n, s) => n + s.refused, 0)} refused, ${timeouts} timed out; pool busy max ${busyMax} (open max ${openMax}, pool ${POOL_MAX} per instance)`);
    // where the storm's time goes: agents back over time, and the attempts that failed, before and after the instances were ready
    const backAfter = storm.flatMap((s) => s.reconnectedAt.map((at) => (at - readyAt) / 1000)).sort((a, b) => a - b);
    const failed = storm.flatMap((s) => s.failures);
    // the agents of the tail: when each saw its old socket close, began its last attempt, and how long that took
    const p99 = percentile(backAfter, 99);
    const timeline = storm.flatMap((s) => s.timeline).sort((a, b) => a[0] - b[0]);
    const tail = timeline.filter(([back]) => (back - readyAt) / 1000 > 2 * p99);
    const rel = (at: number) => fmt((at - readyAt) / 1000, 1);
    const why = (list: Array<[number, string]>) => [...list.reduce((m, [, text]) => m.set(text, (m.get(text) ?? 0) + 1), new Map<string, number>())].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([text, n]) => `${n} × ${text}`).join('; ');
    const beforeReady = failed.filter(([at]) => at < readyAt);
    const afterReady = failed.filter(([at]) => at >= readyAt);
    log(`  agents back after ready: 10 % at ${fmt(percentile(backAfter, 10), 1)} s, 50 % at ${fmt(percentile(backAfter, 50), 1)} s, 90 % at ${fmt(percentile(backAfter, 90), 1)} s, 99 % at ${fmt(p99, 1)} s, the last at ${fmt(backAfter[backAfter.length - 1] ?? NaN, 1)} s (${tail.length} after twice the 99th percentile)`);
    // the last three back (and the first of the agents after twice the 99th percentile, if any)
    const show = [...(tail.length > 3 ? [tail[0]!] : []), ...timeline.slice(-3)];
    log(`  the last back: ${show.map(([back, closed, begun, tries]) => `picked up ${rel(closed)} s, last of ${tries} attempt(s) begun ${rel(begun)} s, back ${rel(back)} s`).join('; ')}`);
    log(`  failed attempts: ${beforeReady.length} before the instances were ready (${why(beforeReady) || 'none'}), ${afterReady.length} after (${why(afterReady) || 'none'})`);
    // the statements of the restarted instances (their start and the storm), by label: which ones each reconnecting agent costs
    log(`  CPU per agent from the instances ready to every session back: ${cpuPerAgent(stormCpuBefore, stormCpuAfter, AGENTS)}`);
    log(`  statements since the restart: ${statementLine(await statementsNow(), AGENTS)}`);
    figures.push(
      { item: 5, name: 'reconnect storm: instances ready → every session back', unit: 's', samples: [reconnected >= AGENTS - LOADGEN && Number.isFinite(settledSessions) ? (stormLast - readyAt) / 1000 : NaN], target: { op: '<', value: 30 }, note: `restart itself ${fmt((readyAt - killedAt) / 1000, 1)} s; protobufjs agents back after ${fmt((swarmLast - readyAt) / 1000, 1)} s (opamp-go agents reconnect with their own backoff)` },
      { item: 5, name: 'reconnect storm: busy database connections, max of an instance', unit: 'connections', samples: [busyMax], target: { op: '<=', value: POOL_MAX }, note: 'AMPORA_DB_POOL_MAX' },
      { item: 5, name: 'reconnect storm: requests over their timeout', unit: 'requests', samples: [timeouts], target: { op: '==', value: 0 }, note: storm.find((s) => s.firstError)?.firstError?.slice(0, 80) },
    );

    // --- item 2: the bare server with the same protobufjs agents ---------------------------------
    await Promise.all(swarms.map((s) => s.c.request({ cmd: 'close' }, 'closed')));
    const perSwarm = swarms.map((s) => s.held);
    swarms.length = 0;
    for (const l of loadgens) await l.stop();
    await worker.stop();
    for (const s of servers) await s.process.stop();
    log(`\n== the ceiling: ${INSTANCES} bare ws + protobuf-decode server(s), ${AGENTS - LOADGEN} agents in a closed loop; load average ${fmt(loadAverage(), 2)} ==`);
    const bare = await Promise.all(
      Array.from({ length: INSTANCES }, async () => {
        const child = fork(join(__dirname, '..', 'opamp-sessions', 'baseline-server.ts'), ['0'], { execArgv: TS_EXEC_ARGV, cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        const port = await new Promise<number>((r) => child.once('message', (m: { port: number }) => r(m.port)));
        return { child, port };
      }),
    );
    try {
      let k = 0;
      for (const n of perSwarm) {
        const c = await forkIpcChild(join(__dirname, 'swarm.ts'), REPO_ROOT, CLIENT_NODE_OPTIONS);
        swarms.push({ c, held: n });
        const list = Array.from({ length: n }, () => ({ url: `ws://127.0.0.1:${bare[k++ % INSTANCES]!.port}` }));
        await c.request({ cmd: 'connect', agents: list, concurrency: CONCURRENCY, heartbeatMs: 0 }, 'connected');
      }
      const cpu0 = bare.map((b) => cpuSeconds(b.child.pid!));
      const loops = await Promise.all(swarms.map((s) => s.c.request<{ frames: number[]; seconds: number[] }>({ cmd: 'closed-loop', windows: WINDOWS, windowMs: (CLOSED_LOOP_SECONDS * 1000) / WINDOWS }, 'closed-loop')));
      const bareFps = Array.from({ length: WINDOWS }, (_x, w) => loops.reduce((n, l) => n + l.frames[w]!, 0) / Math.max(...loops.map((l) => l.seconds[w]!)));
      const bareFrames = loops.reduce((n, l) => n + l.frames.reduce((a, b) => a + b, 0), 0);
      const bareCpuUs = (bare.reduce((n, b, i) => n + cpuSeconds(b.child.pid!) - cpu0[i]!, 0) * 1e6) / Math.max(1, bareFrames);
      const amp = finalClosedLoop!;
      log(`  bare: ${bareFps.map((f) => fmt(f)).join(' / ')} frames/s, CPU ${fmt(bareCpuUs)} µs per frame`);
      figures.push(
        { item: 2, name: 'frames/s through the full stack', unit: 'frames/s', samples: amp.fps, note: `server CPU ${fmt(amp.cpuUs)} µs per frame` },
        { item: 2, name: 'frames/s of the bare ws + decode server (ceiling)', unit: 'frames/s', samples: bareFps, note: `CPU ${fmt(bareCpuUs)} µs per frame` },
        { item: 2, name: 'full stack ÷ bare server, frames/s', unit: '', samples: amp.fps.map((f, w) => f / bareFps[w]!), target: { op: '>=', value: 0.5 }, baseline: '0.38 (bench:opamp, 2026-11-25)', note: 'window by window' },
        { item: 2, name: 'bare ÷ full stack, server CPU per frame', unit: '', samples: [bareCpuUs / amp.cpuUs], note: 'frames per CPU second, against the bare server' },
      );
    } finally {
      for (const b of bare) b.child.kill();
    }

    // --- verdicts, growth table, results, plot ----------------------------------------------------
    const judged = figures.sort((a, b) => a.item - b.item).map((f) => judge(f, AGENTS));
    log(`\n${AGENTS.toLocaleString('en-US')} agents on ${INSTANCES} instance(s), load average ${fmt(loadStart, 2)} → ${fmt(loadAverage(), 2)}`);
    log(table(judged));
    log('\nitem 6, growth:');
    log('| agents | enrol agents/s | server RSS MiB | KiB per session (added since the last step) | frames/s (closed loop) | CPU µs/frame | group push s (agents/s) | rollout Completed s (agents/s) | load average |');
    log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of growth)
      log(`| ${r.agents.toLocaleString('en-US')} | ${fmt(r.enrolPerSecond)} | ${fmt(r.rssMiB)} | ${fmt(r.rssPerSessionKiB)} (${fmt(r.rssMarginalKiB)}) | ${fmt(r.framesPerSecond)} | ${fmt(r.cpuUsPerFrame)} | ${fmt(r.groupPushMs / 1000, 2)} (${fmt(r.groupPushReachPerSecond)}) | ${fmt(r.rolloutCompletedMs / 1000, 2)} (${fmt(r.rolloutReachPerSecond)}) | ${fmt(r.loadAverage, 2)} |`);
    const results: Results = { agents: AGENTS, instances: INSTANCES, loadgen: LOADGEN, holdSeconds: HOLD_SECONDS, settings, growth, figures: judged, loadAverage: { start: loadStart, end: loadAverage() }, machine: machine(), startedAt };
    const dir = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `scale-${INSTANCES}x${AGENTS}-${startedAt.replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    plot(JSON.parse(readFileSync(file, 'utf8')) as Results, file.replace(/\.json$/, '.png'));
    log(`\nresults written to ${file} (plot: ${file.replace(/\.json$/, '.png')})`);
    const missed = judged.filter((j) => j.verdict === 'MISS');
    if (missed.length) {
      log(`\n${missed.length} figure(s) missed the target by more than the measured noise: ${missed.map((m) => m.name).join('; ')}`);
      process.exitCode = 2;
    }
  } finally {
    await Promise.all(swarms.map((s) => Promise.race([s.c.request({ cmd: 'close' }, 'closed'), sleep(3000)])));
    for (const s of swarms) s.c.child.kill();
    for (const l of loadgens) await l.stop();
    await pg.end().catch(() => undefined);
    await worker?.stop();
    for (const s of servers) await s.process.stop();
    await db.drop();
  }
}

/**
 * Item 3's reconcile: a dynamic group selecting every agent, the agents taken out of the static group
 * (a static group's members never move), one placement pass, then three steady passes (nothing moves),
 * run by fleet's GroupReconciler in this process against the run's database, as the worker runs it.
 */
async function reconcilePasses(env: Record<string, string>, tenantId: string, pg: Client, staticGroupId: string, createGroup: () => Promise<unknown>): Promise<{ initialMs: number; moved: number; steadyMs: number[]; evaluated: number }> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Test } = require('@nestjs/testing') as typeof import('@nestjs/testing');
  const { FleetModule, GroupReconciler } = require('@ampora/fleet') as typeof import('@ampora/fleet');
  const { PlatformModule, configureLogging } = require('@ampora/platform') as typeof import('@ampora/platform');
  const { GovernanceModule } = require('@ampora/governance') as typeof import('@ampora/governance');
  const { loadAmporaConfig } = require('../../apps/composition/src/config') as typeof import('../../apps/composition/src/config');
  /* eslint-enable @typescript-eslint/no-require-imports */
  configureLogging({ level: 'Warning' });
  const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: 'scale-reconciler', AMPORA_AUTO_MIGRATE: 'false' });
  const moduleRef = await Test.createTestingModule({ imports: [PlatformModule.forRoot(config), GovernanceModule, FleetModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  try {
    await createGroup();
    // in id order, as every writer of agents rows locks them: the servers' state writers run meanwhile
    // (the first 50,000-agent run deadlocked here and lost its last phases)
    await pg.query(
      `UPDATE agents a SET group_id = NULL, group_pinned = false FROM (SELECT id FROM agents WHERE group_id = $1 ORDER BY id FOR UPDATE) l WHERE a.id = l.id`,
      [staticGroupId],
    );
    const reconciler = app.get(GroupReconciler);
    const initial = await reconciler.reconcileTenant(tenantId);
    const steadyMs: number[] = [];
    let evaluated = 0;
    for (let i = 0; i < 3; i++) {
      const s = await reconciler.reconcileTenant(tenantId);
      if (s.moved !== 0) throw new Error(`a steady pass moved ${s.moved} agents`);
      steadyMs.push(s.durationMs);
      evaluated = s.evaluated;
    }
    return { initialMs: initial.durationMs, moved: initial.moved, steadyMs, evaluated };
  } finally {
    await app.close();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
