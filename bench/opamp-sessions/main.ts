/**
 * bench/opamp-sessions — N simulated WebSocket agents (default 5,000) enrol with bootstrap tokens,
 * heartbeat in a closed loop and receive one pushed config each, against a real Ampora server
 * process; then the same clients heartbeat against a bare `ws` + protobuf-decode server, the ceiling,
 * measured in the same run.
 *
 *   npm run bench:opamp -- [--agents 5000] [--heartbeat-seconds 10]
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchPgClient } from '../lib/pg';
import { hashToken, mintToken } from '@ampora/platform';
import { freePort, metricValue, REPO_ROOT, scrape, startProcess, TEST_REDIS_URL, unusedDatabaseName, waitForHttp } from '@ampora/testing';
import { cpuSeconds, fmt, loadAverage, machine, percentile, rssBytes } from '../lib/stats';
import { forkIpcChild, IpcChild, TS_EXEC_ARGV } from '../lib/child';
import { bucketQuantile, histogramBuckets } from '../lib/histogram';

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const AGENTS = option('agents', 5000);
const HEARTBEAT_MS = option('heartbeat-seconds', 10) * 1000;
const PER_PROCESS = 15_000;
const serverNodeOptions = (() => {
  const i = args.indexOf('--server-node-options');
  return i >= 0 ? args[i + 1] : undefined;
})();
const SWARMS = Math.max(2, Math.ceil(AGENTS / PER_PROCESS));

type Swarm = IpcChild;

const startSwarm = () => forkIpcChild(join(__dirname, 'swarm.ts'), REPO_ROOT);

function slices<T>(items: T[], n: number): T[][] {
  return Array.from({ length: n }, (_, i) => items.filter((_x, j) => j % n === i));
}

/** p-quantile of a Prometheus histogram in `/metrics` text (every label set merged). */
function histogramQuantile(text: string, name: string, q: number): number {
  return bucketQuantile(histogramBuckets(text, name), q);
}

async function main(): Promise<void> {
  console.log(`bench/opamp-sessions: ${AGENTS} agents in ${SWARMS} client processes; ${machine()}`);
  const db = unusedDatabaseName();
  const admin = mintToken('amp-pat');
  const port = await freePort();
  const server = startProcess('server', {
    DATABASE_URL: db.url,
    REDIS_URL: TEST_REDIS_URL,
    AMPORA_REDIS_PREFIX: `ampora-bench-${Date.now()}`,
    AMPORA_HTTP_PORT: String(port),
    AMPORA_HTTP_HOST: '127.0.0.1',
    AMPORA_BOOTSTRAP_ADMIN_TOKEN: admin,
    AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '600',
    AMPORA_DB_POOL_MAX: '20',
    // every agent of the bench enrols from 127.0.0.1: the per-address abuse limits are off, as in the tests
    AMPORA_LIMITS_ENROLMENTS_PER_IP: '0',
    AMPORA_LIMITS_ENROLMENTS_PER_TENANT: '0',
    AMPORA_LIMITS_AUTH_FAILURES_PER_IP: '0',
    AMPORA_LIMITS_AUTH_FAILURES_PER_TENANT: '0',
    LOG_LEVEL: 'Warning',
  }, [], serverNodeOptions ? serverNodeOptions.split(' ') : []); // e.g. --server-node-options "--cpu-prof --cpu-prof-dir=/tmp/prof"
  const swarms: Swarm[] = [];
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/health/live`, 180_000); // a busy shared machine starts the server slowly
    const pg = benchPgClient(db.url);
    await pg.connect();
    const tenant = (await pg.query(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0].id as string;
    const tokens = Array.from({ length: AGENTS }, () => mintToken('amp-bs'));
    await pg.query(
      `INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, created_by, expires_at) SELECT $1, 'bench', h, 'bench', now() + interval '1 day' FROM unnest($2::text[]) AS t(h)`,
      [tenant, tokens.map(hashToken)],
    );
    await pg.end();
    for (let i = 0; i < SWARMS; i++) swarms.push(await startSwarm());
    await new Promise((r) => setTimeout(r, 1000));
    const rssBefore = rssBytes(server.child.pid!);

    // 1. enrolment: connect, first status report, redemption, first reply
    const url = `ws://127.0.0.1:${port}/v1/opamp`;
    const t0 = Date.now();
    const connected = await Promise.all(
      slices(tokens, SWARMS).map((s, i) => swarms[i]!.request<{ connected: number; failed: number; connectMs: number[]; uids: string[] }>({ cmd: 'connect', url, tokens: s, concurrency: 100 }, 'connected')),
    );
    const connectSeconds = (Date.now() - t0) / 1000;
    const connectMs = connected.flatMap((c) => c.connectMs);
    const total = connected.reduce((n, c) => n + c.connected, 0);
    await new Promise((r) => setTimeout(r, 3000)); // let the writer flush and the heap settle
    const rssAfter = rssBytes(server.child.pid!);

    // 2. closed-loop heartbeats (the server's CPU time over them, per frame: the figure noise bends least)
    const loadBefore = loadAverage();
    const cpuBefore = cpuSeconds(server.child.pid!);
    const heartbeatsFromUs = Number(process.hrtime.bigint() / 1000n); // CLOCK_MONOTONIC, as V8's profile timestamps
    const beats = await Promise.all(swarms.map((s) => s.request<{ frames: number; seconds: number }>({ cmd: 'heartbeat', durationMs: HEARTBEAT_MS }, 'heartbeats')));
    const heartbeatsToUs = Number(process.hrtime.bigint() / 1000n);
    const amporaFrames = beats.reduce((n, b) => n + b.frames, 0);
    const amporaCpuUsPerFrame = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / Math.max(1, amporaFrames);
    const amporaFps = amporaFrames / Math.max(...beats.map((b) => b.seconds));
    const loadDuring = loadAverage();

    // 3. one pushed config each: assign through the REST API, agents apply at once
    const ids = new Map<string, string>();
    let cursor: string | null = null;
    do {
      const res = await fetch(`${base}/api/agents?limit=500${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${admin}` } });
      const page = (await res.json()) as { items: Array<{ id: string; instanceUid: string }>; nextCursor: string | null };
      for (const a of page.items) ids.set(a.instanceUid.replace(/-/g, ''), a.id);
      cursor = page.nextCursor;
    } while (cursor);
    const pushedAt = new Map<string, number>();
    const uids = connected.flatMap((c) => c.uids).filter((u) => ids.has(u));
    let nextPush = 0;
    const pushStarted = Date.now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (nextPush < uids.length) {
          const uid = uids[nextPush++]!;
          pushedAt.set(uid, Date.now());
          await fetch(`${base}/api/agents/${ids.get(uid)}/assign`, {
            method: 'POST',
            headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
            body: JSON.stringify({ yaml: `# ${uid}\nreceivers:\n  otlp:\n    protocols: {grpc: {}}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [debug]}\n` }),
          });
        }
      }),
    );
    const pushSeconds = (Date.now() - pushStarted) / 1000;
    let received: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const parts = await Promise.all(swarms.map((s) => s.request<{ received: Record<string, number> }>({ cmd: 'collect-configs' }, 'configs')));
      received = Object.assign({}, ...parts.map((p) => p.received));
      if (Object.keys(received).length >= uids.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const pushLatencyMs = Object.entries(received).map(([uid, at]) => at - (pushedAt.get(uid) ?? at));
    await new Promise((r) => setTimeout(r, 1500));
    const metrics = await scrape(base);
    const applied = metricValue(metrics, 'ampora_opamp_apply_duration_seconds_count');
    const appliedP50 = histogramQuantile(metrics, 'ampora_opamp_apply_duration_seconds', 0.5) * 1000;
    const appliedP99 = histogramQuantile(metrics, 'ampora_opamp_apply_duration_seconds', 0.99) * 1000;
    await Promise.all(swarms.map((s) => s.request({ cmd: 'close' }, 'closed')));
    swarms.length = 0;
    await server.stop();

    // 4. the ceiling: bare ws + protobuf decode, the same clients and the same closed loop
    const baseline = fork(join(__dirname, 'baseline-server.ts'), ['0'], { execArgv: TS_EXEC_ARGV, cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const baselinePort = await new Promise<number>((r) => baseline.once('message', (m: { port: number }) => r(m.port)));
    for (let i = 0; i < SWARMS; i++) swarms.push(await startSwarm());
    await Promise.all(slices(new Array<string>(AGENTS).fill(''), SWARMS).map((s, i) => swarms[i]!.request({ cmd: 'connect', url: `ws://127.0.0.1:${baselinePort}`, tokens: s, concurrency: 100 }, 'connected')));
    const baseCpuBefore = cpuSeconds(baseline.pid!);
    const baseBeats = await Promise.all(swarms.map((s) => s.request<{ frames: number; seconds: number }>({ cmd: 'heartbeat', durationMs: HEARTBEAT_MS }, 'heartbeats')));
    const baselineFrames = baseBeats.reduce((n, b) => n + b.frames, 0);
    const baselineCpuUsPerFrame = ((cpuSeconds(baseline.pid!) - baseCpuBefore) * 1e6) / Math.max(1, baselineFrames);
    const baselineFps = baselineFrames / Math.max(...baseBeats.map((b) => b.seconds));
    await Promise.all(swarms.map((s) => s.request({ cmd: 'close' }, 'closed')));
    swarms.length = 0;
    baseline.kill();

    const results = {
      agents: AGENTS,
      connected: total,
      failed: connected.reduce((n, c) => n + c.failed, 0),
      connectRatePerSecond: total / connectSeconds,
      connectLatencyMs: { p50: percentile(connectMs, 50), p99: percentile(connectMs, 99) },
      serverRssPerSessionKiB: (rssAfter - rssBefore) / 1024 / Math.max(1, total),
      serverRssMiB: { before: rssBefore / 2 ** 20, after: rssAfter / 2 ** 20 },
      framesPerSecond: { ampora: amporaFps, bareWsCeiling: baselineFps, ratio: amporaFps / baselineFps },
      serverCpuUsPerFrame: { ampora: amporaCpuUsPerFrame, bareWsCeiling: baselineCpuUsPerFrame },
      /** The heartbeat phase on the monotonic clock, µs: `bench/profile-summary.ts --window` of a server `--cpu-prof`. */
      heartbeatWindowUs: { from: heartbeatsFromUs, to: heartbeatsToUs },
      loadAverage1m: { beforeHeartbeats: loadBefore, afterHeartbeats: loadDuring },
      push: {
        assignCallsPerSecond: uids.length / pushSeconds,
        received: Object.keys(received).length,
        assignToConfigMs: { p50: percentile(pushLatencyMs, 50), p99: percentile(pushLatencyMs, 99) },
        serverPushToAppliedMs: { count: applied, p50: appliedP50, p99: appliedP99 },
      },
      machine: machine(),
    };
    console.log('');
    console.log(`  agents connected            ${results.connected} / ${AGENTS} (failed ${results.failed})`);
    console.log(`  connect rate                ${fmt(results.connectRatePerSecond)} agents/s (enrol = connect + redeem + first reply; p50 ${fmt(results.connectLatencyMs.p50)} ms, p99 ${fmt(results.connectLatencyMs.p99)} ms)`);
    console.log(`  server RSS per session      ${fmt(results.serverRssPerSessionKiB)} KiB (${fmt(results.serverRssMiB.before)} → ${fmt(results.serverRssMiB.after)} MiB)`);
    console.log(`  frames handled per second   ${fmt(amporaFps)} (bare ws + protobuf ceiling ${fmt(baselineFps)}; ratio ${fmt(results.framesPerSecond.ratio, 2)})`);
    console.log(`  server CPU µs per frame     ${fmt(amporaCpuUsPerFrame)} (bare ws + protobuf ${fmt(baselineCpuUsPerFrame)}; ${fmt(amporaFrames)} frames; load average ${fmt(loadBefore, 2)} → ${fmt(loadDuring, 2)})`);
    console.log(`  push → config received      p50 ${fmt(results.push.assignToConfigMs.p50)} ms, p99 ${fmt(results.push.assignToConfigMs.p99)} ms (${results.push.received} agents; REST assign at ${fmt(results.push.assignCallsPerSecond)}/s)`);
    console.log(`  push → APPLIED (server)     p50 ≈ ${fmt(appliedP50)} ms, p99 ≈ ${fmt(appliedP99)} ms (histogram estimate, ${applied} agents)`);
    const dir = join(REPO_ROOT, 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `opamp-sessions-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2));
    console.log(`\n  results written to ${file}`);
  } finally {
    for (const s of swarms) s.child.kill();
    await server.stop();
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
