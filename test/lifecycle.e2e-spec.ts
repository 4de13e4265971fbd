import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { hashToken } from '@ampora/platform';
import { act, apiClient, collectorYaml, createRollout, createStaticGroup, expectStatus, publishVersions } from './support/rollout-kit';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { collectLines, createTestDatabase, freePort, REPO_ROOT, runCli, startProcess, testEnv, TestDatabase, waitForHttp } from '@ampora/testing';

/**
 * The processes as operators and supervisors run them: `npm start` signalled the way nohup scripts,
 * systemd and terminals do, the server-only and worker-only scripts, and the graceful shutdown of a
 * server holding a few thousand agents.
 */

interface Launched {
  child: ChildProcess;
  records: Array<Record<string, unknown>>;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  waitFor(predicate: (r: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Runs an npm script in its own process group (as a shell would), collecting its output. */
function npm(args: string[], env: Record<string, string>): Launched {
  const child = spawn('npm', args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const records: Array<Record<string, unknown>> = [];
  const stdout: string[] = [];
  const stderr: string[] = [];
  collectLines(child.stdout!, stdout, records);
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | null>((res) => child.once('exit', (code, signal) => res(code ?? (signal ? -1 : null))));
  return {
    child,
    records,
    stdout,
    stderr,
    exited,
    async waitFor(predicate, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = records.find(predicate);
        if (hit) return hit;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no such line; stdout:\n${stdout.slice(-20).join('\n')}\nstderr:\n${stderr.join('')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/** Every process below `pid` (by parent), from ps. */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of rows) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function allGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !alive(p))) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return pids.filter(alive);
}

const errorLines = (l: Launched) => l.records.filter((r) => r.level === 'Error' || r.level === 'Critical');

describe('npm start, signalled as a supervisor would', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  async function startAmpora(): Promise<{ app: Launched; pids: number[]; env: Record<string, string> }> {
    const { env } = testEnv(db.url, { AMPORA_SHUTDOWN_DRAIN_SECONDS: '1', AMPORA_SHUTDOWN_TIMEOUT_SECONDS: '10', AMPORA_WORKER_HTTP_PORT: String(await freePort()) });
    const app = npm(['start'], env);
    await app.waitFor((r) => r.category === 'Ampora.Server' && typeof r.Port === 'number');
    await app.waitFor((r) => r.category === 'Ampora.Worker' && typeof r.message === 'string' && r.message.includes('started'));
    const pids = descendants(app.child.pid!);
    // start.js, the server and the worker (npm may add a shell in between)
    expect(pids.length).toBeGreaterThanOrEqual(3);
    return { app, pids, env };
  }

  it('SIGTERM to the PID of npm start stops every process, cleanly, within the shutdown timeout', async () => {
    const { app, pids } = await startAmpora();
    process.kill(app.child.pid!, 'SIGTERM');
    expect(await allGone(pids, 20_000)).toEqual([]);
    await app.exited;
    expect(errorLines(app)).toEqual([]);
    expect(app.stderr.join('')).not.toMatch(/Called end on pool|Error|orphan/i);
    // both children went through their graceful shutdown
    expect(app.records.filter((r) => typeof r.message === 'string' && /stopped$/.test(r.message)).map((r) => r.category).sort()).toEqual(['Ampora.Server', 'Ampora.Worker']);
  });

  it('SIGINT to the process group (Ctrl-C) stops every process once: no pool closed twice, no error line', async () => {
    const { app, pids } = await startAmpora();
    process.kill(-app.child.pid!, 'SIGINT');
    expect(await allGone(pids, 20_000)).toEqual([]);
    await app.exited;
    expect(errorLines(app)).toEqual([]);
    expect(app.stderr.join('')).not.toMatch(/Called end on pool|Error/i);
    expect(app.records.filter((r) => typeof r.message === 'string' && /stopped$/.test(r.message))).toHaveLength(2);
  });
});

describe('npm run start:server and start:worker', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('run a server and a worker; until a worker is seen, paced work says no_worker in its answer, its log and readiness', async () => {
    const workerPort = await freePort();
    const { env, adminToken } = testEnv(db.url, { AMPORA_WORKER_HTTP_PORT: String(workerPort), AMPORA_WORKER_HEARTBEAT_SECONDS: '1' });
    const server = npm(['run', '-s', 'start:server'], env);
    let worker: Launched | undefined;
    try {
      const listening = await server.waitFor((r) => r.category === 'Ampora.Server' && typeof r.Port === 'number');
      const base = `http://127.0.0.1:${listening.Port as number}`;
      const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
      // the server's hint for an operator token names this deployment's database
      for (let i = 0; i < 50 && !server.stderr.join('').includes('Operator token'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(server.stderr.join('')).toContain(`DATABASE_URL=${db.url} npm run -s cli -- tokens create`);

      // an agent to push to (paced pushes are what need a worker)
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      const tenant = (await pg.query(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0].id as string;
      const agentId = (await pg.query(`INSERT INTO agents (tenant_id, instance_uid, identity_kind) VALUES ($1, gen_random_uuid(), 'token') RETURNING id`, [tenant])).rows[0].id as string;
      await pg.end();

      const status = async () => (await (await fetch(`${base}/api/status`, { headers: auth })).json()) as { workers: { alive: boolean; count: number } };
      expect((await status()).workers).toMatchObject({ alive: false, count: 0 });
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200); // the API tier still serves
      expect(((await ready.json()) as { checks: Record<string, unknown> }).checks.worker).toMatchObject({ status: 'down', advisory: true });

      const push = async () => {
        const res = await fetch(`${base}/api/agents/bulk/force-push`, { method: 'POST', headers: auth, body: JSON.stringify({ agentIds: [agentId] }) });
        expect(res.status).toBe(202);
        return ((await res.json()) as { dispatch: { mode: string; warnings: string[] } }).dispatch;
      };
      expect(await push()).toMatchObject({ mode: 'paced', warnings: ['no_worker'] });
      await server.waitFor((r) => r.level === 'Warning' && typeof r.message === 'string' && r.message.startsWith('No worker is alive'));
      // a rollout, which the worker drives, says the same when it is started
      const api = apiClient(base, adminToken);
      const [v1] = await publishVersions(api, [collectorYaml('lifecycle')]);
      const group = await createStaticGroup(api);
      await expectStatus(api, 'POST', `/api/groups/${group.id}/members`, 200, { agentIds: [agentId] });
      const rollout = await createRollout(api, { configurationId: v1!.configurationId, version: v1!.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] } });
      expect(((await act(api, rollout.id, 'start')) as { warnings?: string[] }).warnings).toEqual(['no_worker']);
      await server.waitFor((r) => r.level === 'Warning' && typeof r.message === 'string' && r.message.includes(`rollout ${rollout.id} waits until one runs`));

      worker = npm(['run', '-s', 'start:worker'], env);
      await worker.waitFor((r) => r.category === 'Ampora.Worker' && r.Port === workerPort);
      // the worker's own port
      expect((await fetch(`http://127.0.0.1:${workerPort}/health/live`)).status).toBe(200);
      const workerReady = await fetch(`http://127.0.0.1:${workerPort}/health/ready`);
      expect(workerReady.status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${workerPort}/metrics`)).text()).toMatch(/^ampora_db_pool_open_connections\{/m);

      const deadline = Date.now() + 20_000;
      while (!(await status()).workers.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect((await status()).workers).toMatchObject({ alive: true, count: 1 });
      expect(await push()).toMatchObject({ mode: 'paced', warnings: [] });

      // a supervisor's SIGTERM to npm's PID: npm itself dies of it, the worker below it notices and
      // stops gracefully (not orphaned), and a worker that stops cleanly is gone from the status at once
      const workerPids = descendants(worker.child.pid!);
      expect(workerPids.length).toBeGreaterThanOrEqual(1);
      process.kill(worker.child.pid!, 'SIGTERM');
      expect(await allGone(workerPids, 15_000)).toEqual([]);
      await new Promise((r) => setTimeout(r, 300)); // its last lines, through the pipe
      expect(worker.records.some((r) => r.category === 'Ampora.Worker' && typeof r.message === 'string' && r.message.endsWith('stopped'))).toBe(true);
      await new Promise((r) => setTimeout(r, 1100)); // the status cache
      expect((await status()).workers.alive).toBe(false);

      const serverPids = descendants(server.child.pid!);
      process.kill(server.child.pid!, 'SIGTERM');
      expect(await allGone(serverPids, 15_000)).toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
      expect(server.records.some((r) => r.category === 'Ampora.Server' && typeof r.message === 'string' && r.message.endsWith('stopped'))).toBe(true);
    } finally {
      for (const l of [worker, server]) if (l) for (const pid of [...descendants(l.child.pid!), l.child.pid!]) alive(pid) && process.kill(pid, 'SIGKILL');
    }
    expect(errorLines(server)).toEqual([]);
    expect(errorLines(worker!)).toEqual([]);
  });
});

describe('the CLI says which store it opened and what is wrong', () => {
  it('names the PostgreSQL store (no password) or the embedded one on stderr; stdout is the answer alone', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'ampora-cli-'));
    try {
      const { env } = testEnv(db.url);
      const pgToken = await runCli(env, ['tokens', 'create', '--tenant', 'default', '--role', 'Admin', '--name', 'me']);
      expect(pgToken.code).toBe(0);
      expect(pgToken.stdout).toMatch(/^amp-pat\.[A-Z2-7]+\.[A-Z2-7]{7}$/);
      expect(pgToken.stderr).toContain(`ampora: using PostgreSQL at 127.0.0.1:5432/${db.name} (DATABASE_URL)`);

      const { DATABASE_URL: _url, ...embeddedEnv } = env;
      const embedded = await runCli({ ...embeddedEnv, AMPORA_DATA_DIR: dir }, ['tenants', 'list']);
      expect(embedded.code).toBe(0);
      expect(embedded.stderr).toContain(`ampora: using the embedded store in ${dir} (set DATABASE_URL`);
      expect(embedded.stdout).toMatch(/^default\t/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });

  it('says why a usage is wrong, precisely (not only the usage text)', async () => {
    const { env } = testEnv('postgres://postgres@127.0.0.1:5432/never_opened');
    const root = await runCli(env, ['tokens', 'create', '--tenant', 'default', '--role', 'Root', '--name', 'me']);
    expect(root.code).toBe(2);
    expect(root.stderr).toContain('--role "Root" is not a role: use Viewer, Operator or Admin');
    expect(root.stdout).toBe('');
    const missing = await runCli(env, ['tokens', 'create', '--role', 'Admin']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('tokens create needs --tenant <name> --name <n>');
  });
});

describe('graceful shutdown of a server holding thousands of agents', () => {
  const AGENTS = 2000;
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('drains: readiness 503 and new agents refused first, agents sent away with 1001 by a server no longer listening, every pending update written, exit 0', async () => {
    const port = await freePort();
    const { env } = testEnv(db.url, {
      AMPORA_HTTP_PORT: String(port),
      AMPORA_SHUTDOWN_DRAIN_SECONDS: '3',
      AMPORA_SHUTDOWN_TIMEOUT_SECONDS: '30',
      // nothing is written on a timer: every update of the test is still pending at the signal
      AMPORA_OPAMP_FLUSH_INTERVAL_MS: '3600000',
      AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '600',
      AMPORA_DB_POOL_MAX: '20',
      LOG_LEVEL: 'Information',
    });
    const server = startProcess('server', env);
    const swarm = fork(join(__dirname, 'support', 'agent-swarm.ts'), [], {
      execArgv: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'],
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const request = <T>(command: Record<string, unknown>, event: string) =>
      new Promise<T>((resolve) => {
        const on = (m: { event: string }) => {
          if (m.event !== event) return;
          swarm.off('message', on);
          resolve(m as T);
        };
        swarm.on('message', on);
        swarm.send(command);
      });
    try {
      await new Promise((r) => swarm.once('message', r));
      const base = `http://127.0.0.1:${port}`;
      await waitForHttp(`${base}/health/live`);
      const pg = new Client({ connectionString: db.url });
      await pg.connect();
      try {
        const { mintToken } = await import('@ampora/platform');
        const tenant = (await pg.query(`SELECT id FROM tenants WHERE name = 'default'`)).rows[0].id as string;
        // one token each for the swarm, for an agent that comes in the drain window, and for one that reconnects the moment it is sent away
        const tokens = Array.from({ length: AGENTS + 2 }, () => mintToken('amp-bs'));
        await pg.query(
          `INSERT INTO bootstrap_tokens (tenant_id, label, token_hash, created_by, expires_at) SELECT $1, 'shutdown', h, 'test', now() + interval '1 day' FROM unnest($2::text[]) AS t(h)`,
          [tenant, tokens.map(hashToken)],
        );
        const url = `ws://127.0.0.1:${port}/v1/opamp`;
        const connected = await request<{ connected: number; failed: number }>({ cmd: 'connect', url, tokens: tokens.slice(0, AGENTS), concurrency: 50 }, 'connected');
        expect(connected).toEqual({ event: 'connected', connected: AGENTS, failed: 0 });
        // the last change of every agent, answered by the server, so it is pending in the state writer
        const reported = await request<{ answered: number; uids: string[] }>({ cmd: 'report', marker: 'final' }, 'reported');
        expect(reported.answered).toBe(AGENTS);
        // a fifth leave on their own just before the signal (their disconnects are pending too)
        await request({ cmd: 'disconnect', count: AGENTS / 5 }, 'disconnected');
        // an agent that tries again the moment it is sent away, as opamp-go's client does: it finds no
        // listener (its own backoff then decides), not a 503 with Retry-After from an exiting server (decision 0451)
        const { TestAgent } = await import('@ampora/testing');
        const eager = new TestAgent({ url, token: tokens[AGENTS + 1]! });
        await eager.connect();
        eager.hello();
        expect((await eager.next(10_000)).error_response).toBeUndefined();
        const eagerAgain = new Promise<{ code: number; status?: number; errno?: string }>((resolve) =>
          eager.ws!.once('close', (code: number) => {
            new TestAgent({ url, token: tokens[AGENTS + 1]! }).connect().then(
              () => resolve({ code, status: 101 }),
              (error: { status?: number; code?: string }) => resolve({ code, status: error.status, errno: error.code }),
            );
          }),
        );

        // a supervisor's SIGTERM, and a terminal's SIGINT on top: one shutdown
        const closedCodes = request<{ codes: Record<string, number> }>({ cmd: 'closed', timeoutMs: 30_000 }, 'closed');
        server.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 300));
        server.child.kill('SIGINT');

        // within the drain window: readiness says so, the listener still answers, new agents are refused
        const ready = await fetch(`${base}/health/ready`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { checks: Record<string, { status: string }> }).checks.shutdown).toMatchObject({ status: 'down' });
        const late = new TestAgent({ url, token: tokens[AGENTS]! });
        await expect(late.connect()).rejects.toMatchObject({ status: 503 });

        expect((await closedCodes).codes).toEqual({ 1000: AGENTS / 5, 1001: AGENTS - AGENTS / 5 });
        expect(await eagerAgain).toEqual({ code: 1001, status: undefined, errno: 'ECONNREFUSED' });
        expect(await server.exited).toBe(0);

        // 0 updates lost: every agent's last report and its disconnect are in the database
        const rows = await pg.query<{ instance_uid: string; marker: string | null; connected: boolean; disconnected_at: Date | null }>(
          `SELECT replace(instance_uid::text, '-', '') AS instance_uid, non_identifying_attributes->>'marker' AS marker, connected, disconnected_at FROM agents WHERE instance_uid <> $1::uuid`,
          [eager.uid.toString('hex')],
        );
        expect(rows.rows).toHaveLength(AGENTS);
        const lost = rows.rows.filter((r) => r.marker !== `final-${r.instance_uid}` || r.connected || r.disconnected_at === null);
        expect(lost).toEqual([]);
      } finally {
        await pg.end();
      }
      // (the request log marks every 5xx answer Warning: the 503s of the drain window are meant)
      const problems = server.records.filter((r) => (r.level === 'Warning' || r.level === 'Error' || r.level === 'Critical') && r.category !== 'Ampora.Platform.Http.RequestLogger');
      expect(problems).toEqual([]);
      expect(server.stderr.join('')).not.toMatch(/Called end on pool|Connection terminated|Driver not Connected/);
      // the order of the shutdown, from the log
      const order = ['Received {Signal}', 'Released {Count}', 'Ampora server {InstanceId} stopped'].map((t) =>
        server.records.findIndex((r) => typeof r.message === 'string' && new RegExp(t.replace(/\{\w+\}/g, '.*')).test(r.message)),
      );
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    } finally {
      swarm.send({ cmd: 'exit' });
      await server.stop();
    }
  }, 420_000);
});
