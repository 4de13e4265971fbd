/*
 * The backplane benchmark: three server instances (built, as processes) on one PostgreSQL (and Redis),
 * agents spread over them, held by client processes. Prints, per backplane kind:
 *  - push latency (REST assign on a random instance → config received by the agent), split into
 *    local (the REST call hit the agent's instance) and forwarded, p50/p99, and their ratio: the local
 *    pushes are the same-run baseline;
 *  - envelopes per second: pushes from a process without sessions (the worker's path, always
 *    forwarded) at a fixed concurrency, with the latency of each dispatch.
 *
 *   npm run build && npm run bench:backplane [-- --backplanes=redis,postgres --agents-per-instance=40 --pushes=600 --seconds=10]
 */
import { DynamicModule, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ChildProcess, fork } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { benchPgClient } from '../lib/pg';
import { FleetModule } from '@ampora/fleet';
import { AGENT_DISPATCHER, AgentDispatcher, desiredConfig, DispatchOutcome } from '@ampora/opamp';
import { AmporaConfig, BackplaneKind, configureLogging, PlatformModule } from '@ampora/platform';
import { GovernanceModule } from '@ampora/governance';
import { loadAmporaConfig } from '../../apps/composition/src/config';
import { metricValue, RunningProcess, startProcess, testEnv, unusedDatabaseName } from '@ampora/testing';

const INSTANCES = 3;
const CLIENT_PROCESSES = 3;

function arg(name: string, fallback: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : fallback;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs `count` tasks with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

@Module({})
class WorkerLikeModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return { module: WorkerLikeModule, imports: [PlatformModule.forRoot(config), GovernanceModule, FleetModule] };
  }
}

interface KindResult {
  kind: BackplaneKind;
  agents: number;
  local: number[];
  forwarded: number[];
  lost: number;
  envelopesPerSecond: number;
  workerLatency: number[];
  workerOutcomes: Record<string, number>;
  forwardedMetric: number;
}

async function runKind(kind: BackplaneKind, agentsPerInstance: number, pushes: number, seconds: number): Promise<KindResult> {
  const db = unusedDatabaseName();
  const { env, adminToken } = testEnv(db.url, { AMPORA_BACKPLANE: kind, LOG_LEVEL: 'Warning', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '1000' });
  const servers: Array<{ process: RunningProcess; url: string; id: string }> = [];
  const clients: ChildProcess[] = [];
  const pg = benchPgClient(db.url);
  try {
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      const id = `bench-${kind}-${i}`;
      const proc = startProcess('server', { ...env, AMPORA_INSTANCE_ID: id, AMPORA_HTTP_PORT: String(port) });
      const url = `http://127.0.0.1:${port}`;
      servers.push({ process: proc, url, id });
      // the first one creates and migrates the database; the others start against it
      for (let t = 0; ; t++) {
        const ok = await fetch(`${url}/health/ready`).then((r) => r.status === 200, () => false);
        if (ok) break;
        if (t > 600 || proc.child.exitCode !== null) throw new Error(`instance ${id} did not become ready:\n${proc.stderr.join('')}`);
        await sleep(100);
      }
    }
    await pg.connect();
    const api = async (i: number, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${servers[i]!.url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as any };
    };

    // agents: instance i % 3, client process i % 3
    const total = agentsPerInstance * INSTANCES;
    const plan: Array<Array<{ url: string; token: string }>> = Array.from({ length: CLIENT_PROCESSES }, () => []);
    for (let i = 0; i < total; i++) {
      const token = (await api(0, 'POST', '/api/bootstrap-tokens', { label: `bench-${i}` })).body.token as string;
      plan[i % CLIENT_PROCESSES]!.push({ url: `${servers[i % INSTANCES]!.url.replace('http', 'ws')}/v1/opamp`, token });
    }
    const waiting = new Map<number, (at: number) => void>();
    const ready: Promise<string[]>[] = [];
    for (const agents of plan) {
      const child = fork(join(__dirname, 'agents.ts'), [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      clients.push(child);
      ready.push(
        new Promise((resolve, reject) => {
          child.on('message', (m: { type: string; uids?: string[]; push?: number; at?: number; error?: string }) => {
            if (m.type === 'ready') resolve(m.uids!);
            else if (m.type === 'received') waiting.get(m.push!)?.(m.at!);
            else if (m.type === 'error') reject(new Error(m.error));
          });
          child.once('exit', (code) => reject(new Error(`an agent process exited (${code})`)));
        }),
      );
      child.send({ type: 'start', agents });
    }
    await Promise.all(ready);

    // which agent is where: the leases say
    for (let t = 0; ; t++) {
      const n = (await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM agent_session_ownership')).rows[0]!.n;
      if (n === total) break;
      if (t > 300) throw new Error(`only ${n} of ${total} agents hold a lease`);
      await sleep(100);
    }
    const rows = (await pg.query<{ agent_id: string; instance_id: string; tenant_id: string }>('SELECT o.agent_id, o.instance_id, a.tenant_id FROM agent_session_ownership o JOIN agents a ON a.id = o.agent_id')).rows;
    const agents = rows.map((r) => ({ id: r.agent_id, tenantId: r.tenant_id, instance: servers.findIndex((s) => s.id === r.instance_id) }));

    // latency: REST assign on a random instance → the agent has it
    const local: number[] = [];
    const forwarded: number[] = [];
    let lost = 0;
    const push = async (n: number, record: boolean) => {
      const agent = agents[Math.floor(Math.random() * agents.length)]!;
      const via = Math.floor(Math.random() * INSTANCES);
      const arrived = new Promise<number>((resolve) => {
        waiting.set(n, resolve);
        setTimeout(() => resolve(NaN), 5000).unref();
      });
      const t0 = now();
      const res = await api(via, 'POST', `/api/agents/${agent.id}/assign`, { yaml: `receivers:\n  otlp: {}\n# push ${n}\n` });
      const at = await arrived;
      waiting.delete(n);
      if (!record) return;
      if (res.status !== 200 || res.body.delivery !== 'delivered' || !Number.isFinite(at)) {
        lost += 1;
        return;
      }
      (via === agent.instance ? local : forwarded).push(at - t0);
    };
    await pool(40, 4, (i) => push(1_000_000 + i, false)); // warm-up
    await pool(pushes, 4, (i) => push(i, true));

    // throughput: the worker's path (no sessions here: every push is an envelope and an answer)
    configureLogging({ level: 'Warning' });
    const workerConfig = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: `bench-${kind}-worker` });
    const worker = await NestFactory.createApplicationContext(WorkerLikeModule.forRoot(workerConfig), { logger: false });
    await worker.init();
    const dispatcher = worker.get<AgentDispatcher>(AGENT_DISPATCHER);
    const forwardedBefore = await forwardedTotal(servers);
    const workerLatency: number[] = [];
    const workerOutcomes: Record<string, number> = {};
    const desired = desiredConfig({ '': { body: Buffer.from('processors:\n  batch: {}\n'), contentType: 'text/yaml' } });
    const deadline = now() + seconds * 1000;
    let completed = 0;
    const startedAt = now();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (now() < deadline) {
          const agent = agents[Math.floor(Math.random() * agents.length)]!;
          const t0 = now();
          const outcome: DispatchOutcome = await dispatcher.pushRemoteConfig({ agentId: agent.id, tenantId: agent.tenantId }, desired, { force: true });
          workerLatency.push(now() - t0);
          workerOutcomes[outcome] = (workerOutcomes[outcome] ?? 0) + 1;
          completed += 1;
        }
      }),
    );
    const elapsed = (now() - startedAt) / 1000;
    await worker.close();
    const forwardedMetric = (await forwardedTotal(servers)) - forwardedBefore;
    return { kind, agents: total, local, forwarded, lost, envelopesPerSecond: completed / elapsed, workerLatency, workerOutcomes, forwardedMetric };
  } finally {
    for (const c of clients) c.send({ type: 'stop' });
    await sleep(300);
    for (const c of clients) c.kill();
    await Promise.all(servers.map((s) => s.process.stop('SIGTERM')));
    await pg.end().catch(() => undefined);
    await db.drop();
  }
}

/** Envelopes the servers received from the bench's worker: it is not a server, so count arrivals. */
async function forwardedTotal(servers: Array<{ url: string }>): Promise<number> {
  let sum = 0;
  for (const s of servers) sum += metricValue(await (await fetch(`${s.url}/metrics`)).text(), 'ampora_dispatch_envelope_age_seconds_count');
  return sum;
}

async function main(): Promise<void> {
  const kinds = arg('backplanes', 'redis,postgres').split(',') as BackplaneKind[];
  const agentsPerInstance = Number(arg('agents-per-instance', '40'));
  const pushes = Number(arg('pushes', '600'));
  const seconds = Number(arg('seconds', '10'));
  const cpu = cpus();
  console.log(`Machine: ${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  console.log(`Three server instances, ${agentsPerInstance * INSTANCES} agents over ${CLIENT_PROCESSES} client processes; ${pushes} REST pushes (4 in flight); ${seconds} s of worker pushes (32 in flight)\n`);
  const results: KindResult[] = [];
  for (const kind of kinds) {
    process.stdout.write(`${kind}: running...\n`);
    results.push(await runKind(kind, agentsPerInstance, pushes, seconds));
  }
  console.log('\n| backplane | local p50 | local p99 | forwarded p50 | forwarded p99 | forwarded/local (p50) | lost | envelopes/s (worker path) | worker push p50 | worker push p99 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const l50 = percentile(r.local, 50);
    const f50 = percentile(r.forwarded, 50);
    console.log(
      `| ${r.kind} | ${ms(l50)} | ${ms(percentile(r.local, 99))} | ${ms(f50)} | ${ms(percentile(r.forwarded, 99))} | ${(f50 / l50).toFixed(2)}× | ${r.lost} | ${r.envelopesPerSecond.toFixed(0)} | ${ms(percentile(r.workerLatency, 50))} | ${ms(percentile(r.workerLatency, 99))} |`,
    );
  }
  for (const r of results) {
    console.log(`\n${r.kind}: ${r.local.length} local and ${r.forwarded.length} forwarded REST pushes measured; worker outcomes ${JSON.stringify(r.workerOutcomes)}; envelopes received by the servers ${r.forwardedMetric}`);
  }
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
