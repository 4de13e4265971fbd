import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mintToken } from '@ampora/platform';
import { createTestDatabase, RunningProcess, runCli, startProcess, TestDatabase, testEnv } from '@ampora/testing';

/**
 * A built server (dist/) as its own process, the way operators run it: the reliability suite talks
 * to it only over HTTP, WebSocket and /metrics, so it survives refactors of the code behind them; a
 * crash is the process exiting, and its memory is the process's resident set.
 */
export interface ServerProcess {
  base: string;
  wsUrl: string;
  adminToken: string;
  env: Record<string, string>;
  db: TestDatabase;
  process: RunningProcess;
  /** Every line the process wrote (stdout and stderr), for the secrets scan. */
  output(): string[];
  /** The process's resident set in bytes (from /proc). */
  rssBytes(): number;
  /** True while the process runs (a crash ends it). */
  alive(): boolean;
  /** Calls the REST API with the admin token (or `token`); answers status and JSON body. */
  api(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** Every line a process wrote: its JSON log lines (stdout), then its stderr split into lines. */
export function processOutput(proc: RunningProcess): string[] {
  return [...proc.lines, ...proc.stderr.join('').split('\n')];
}

export async function startServerProcess(overrides: Record<string, string> = {}, options: { db?: TestDatabase; nodeArgs?: string[] } = {}): Promise<ServerProcess> {
  const db = options.db ?? (await createTestDatabase());
  const { env } = testEnv(db.url, overrides);
  // an instance of a deployment gets the deployment's admin token (see startDeployment)
  const adminToken = env.AMPORA_BOOTSTRAP_ADMIN_TOKEN!;
  const proc = startProcess('server', env, [], options.nodeArgs ?? []);
  let listening: Record<string, unknown>;
  try {
    // two minutes: on a two-core machine shared with other builds a start (migrations included) can take more than one
    listening = await proc.waitFor((r) => typeof r.Port === 'number' && String(r.message ?? '').startsWith('Ampora server'), 120_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    if (!options.db) await db.drop();
    throw error;
  }
  const base = `http://127.0.0.1:${listening.Port as number}`;
  return {
    base,
    wsUrl: `ws://127.0.0.1:${listening.Port as number}/v1/opamp`,
    adminToken,
    env,
    db,
    process: proc,
    output: () => processOutput(proc),
    rssBytes: () => {
      const status = readFileSync(`/proc/${proc.child.pid}/status`, 'utf8');
      const kb = /VmRSS:\s+(\d+) kB/.exec(status);
      return kb ? Number(kb[1]) * 1024 : 0;
    },
    alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    api: (method, path, body, token = adminToken) => callApi(base, method, path, body, token),
    async stop() {
      await proc.stop('SIGTERM');
      if (!options.db) await db.drop();
    },
  };
}

export async function callApi(base: string, method: string, path: string, body: unknown, token: string | undefined): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await jsonBody(res) };
}

/** A response's JSON body; `{}` when empty, `{ text }` when it is not JSON. */
export async function jsonBody(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  try {
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    return { text };
  }
}

/** Makes `count` bootstrap tokens through the API. */
export async function bootstrapTokens(server: ServerProcess, count: number, label = 'reliability'): Promise<string[]> {
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await server.api('POST', '/api/bootstrap-tokens', { label: `${label}-${i}` });
    if (res.status !== 201) throw new Error(`bootstrap token: ${res.status} ${JSON.stringify(res.body)}`);
    tokens.push(res.body.token as string);
  }
  return tokens;
}

/** Every line the CLI wrote to stderr in this file's runs (its logs), for the secrets scan; its stdout is the token it makes. */
export const cliLog: string[] = [];

/** A tenant of its own and an Admin token of it, made with the CLI (the operator's way). */
export async function otherTenantAdmin(server: ServerProcess, tenant: string): Promise<string> {
  const env = { DATABASE_URL: server.env.DATABASE_URL!, AMPORA_MASTER_KEY: server.env.AMPORA_MASTER_KEY!, LOG_LEVEL: 'Information' };
  const created = await runCli(env, ['tenants', 'create', tenant]);
  cliLog.push(...created.stderr.split('\n'));
  if (created.code !== 0) throw new Error(`tenants create: ${created.stderr}`);
  const token = await runCli(env, ['tokens', 'create', '--tenant', tenant, '--role', 'Admin', '--name', `${tenant}-admin`]);
  cliLog.push(...token.stderr.split('\n'));
  if (token.code !== 0) throw new Error(`tokens create: ${token.stderr}`);
  return token.stdout.trim().split('\n').pop()!.trim();
}

/** Server instances of one deployment: one database, one Redis prefix, one master key, one admin token. */
export interface Deployment {
  instances: ServerProcess[];
  adminToken: string;
  db: TestDatabase;
  /** Calls the REST API of `instance` as the deployment's admin. */
  api(instance: ServerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function startDeployment(ids: string[], overrides: Record<string, string> = {}): Promise<Deployment> {
  const db = await createTestDatabase();
  const adminToken = mintToken('amp-pat');
  const shared = { AMPORA_REDIS_PREFIX: `ampora-test-${randomBytes(5).toString('hex')}`, AMPORA_MASTER_KEY: randomBytes(32).toString('base64'), AMPORA_BOOTSTRAP_ADMIN_TOKEN: adminToken, ...overrides };
  // the first instance migrates the database alone; the others start together once it is up
  const first = await startServerProcess({ ...shared, AMPORA_INSTANCE_ID: ids[0]! }, { db });
  const instances = [first, ...(await Promise.all(ids.slice(1).map((id) => startServerProcess({ ...shared, AMPORA_INSTANCE_ID: id }, { db }))))];
  return {
    instances,
    adminToken,
    db,
    api: (instance, method, path, body) => callApi(instance.base, method, path, body, adminToken),
    async stop() {
      await Promise.all(instances.map((i) => i.stop()));
      await db.drop();
    },
  };
}
