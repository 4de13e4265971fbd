import { readFileSync } from 'node:fs';
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

export async function startServerProcess(overrides: Record<string, string> = {}, options: { db?: TestDatabase } = {}): Promise<ServerProcess> {
  const db = options.db ?? (await createTestDatabase());
  const { env, adminToken } = testEnv(db.url, overrides);
  const proc = startProcess('server', env);
  let listening: Record<string, unknown>;
  try {
    listening = await proc.waitFor((r) => typeof r.Port === 'number', 60_000);
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
    output: () => [...proc.lines, ...proc.stderr.join('').split('\n')],
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
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    json = { text };
  }
  return { status: res.status, body: json };
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

/** A tenant of its own and an Admin token of it, made with the CLI (the operator's way). */
export async function otherTenantAdmin(server: ServerProcess, tenant: string): Promise<string> {
  const env = { DATABASE_URL: server.env.DATABASE_URL!, AMPORA_MASTER_KEY: server.env.AMPORA_MASTER_KEY!, LOG_LEVEL: 'Warning' };
  const created = await runCli(env, ['tenants', 'create', tenant]);
  if (created.code !== 0) throw new Error(`tenants create: ${created.stderr}`);
  const token = await runCli(env, ['tokens', 'create', '--tenant', tenant, '--role', 'Admin', '--name', `${tenant}-admin`]);
  if (token.code !== 0) throw new Error(`tokens create: ${token.stderr}`);
  return token.stdout.trim().split('\n').pop()!.trim();
}
