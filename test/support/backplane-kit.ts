import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { BackplaneKind } from '@ampora/platform';
import { createTestDatabase, eventually, metricValue, OtlpReceiver, RunningProcess, S2A, scrape, startProcess, TestAgent, TestDatabase, testEnv } from '@ampora/testing';

export const TTL_SECONDS = 6;

/** The PostgreSQL run uses no Redis at all: queues on BullMQ's PostgreSQL backend, Redis unreachable. */
export const BACKPLANE_MODES: Array<{ kind: BackplaneKind; extra: Record<string, string> }> = [
  { kind: 'redis', extra: {} },
  { kind: 'postgres', extra: { AMPORA_QUEUE: 'postgres', REDIS_URL: 'redis://127.0.0.1:1' } },
];

/** The bytes of the config an agent received, as text. */
export function configText(m: S2A): string | undefined {
  const files = m.remote_config?.config?.config_map ?? {};
  const first = Object.values(files)[0];
  return first?.body ? Buffer.from(first.body).toString('utf8') : undefined;
}

export interface Instance {
  id: string;
  process: RunningProcess;
  url: string;
  ws: string;
}

/** What the pair's beforeAll made: two instances A and B on one database (and Redis, or not). */
export interface Pair {
  a: Instance;
  b: Instance;
  db: TestDatabase;
  pg: Client;
  env: Record<string, string>;
  admin: string;
}

/**
 * Two server instances as real processes over the `kind` backplane, exporting spans to an OTLP
 * receiver, and what the backplane suites do with them. Call inside `describe`: it registers the
 * beforeAll that starts them (then hands them to `ready`) and the afterAll that stops everything.
 */
export function backplanePair(kind: BackplaneKind, extra: Record<string, string>, ready: (pair: Pair) => void) {
  const otlp = new OtlpReceiver();
  const tag = randomBytes(3).toString('hex');
  const agents: TestAgent[] = [];
  const processes: RunningProcess[] = [];
  const expectedExits = new Set<string>();
  let pair!: Pair;

  async function start(id: string): Promise<Instance> {
    const process = startProcess('server', { ...pair.env, AMPORA_INSTANCE_ID: id });
    processes.push(process);
    void process.exited.then((code) => {
      if (!expectedExits.has(id)) console.error(`instance ${id} exited (${code}) unexpectedly:\n${process.lines.slice(-30).join('\n')}\n${process.stderr.join('')}`);
    });
    const listening = await process.waitFor((r) => typeof r.Port === 'number', 60000);
    const url = `http://127.0.0.1:${listening.Port as number}`;
    return { id, process, url, ws: `${url.replace('http', 'ws')}/v1/opamp` };
  }

  async function api(instance: Instance, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
    const res = await fetch(`${instance.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${pair.admin}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  }

  /** Enrols an agent on `instance` and answers it with its id. */
  async function enroll(instance: Instance): Promise<{ agent: TestAgent; id: string }> {
    const token = (await api(instance, 'POST', '/api/bootstrap-tokens', { label: 'backplane' })).body.token as string;
    const agent = new TestAgent({ url: instance.ws, token, autoApply: true });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    expect((await agent.next()).error_response).toBeUndefined();
    const id = await eventually(async () => (await api(instance, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);
    return { agent, id };
  }

  /** The same agent (uid, token) connecting again, to another instance. */
  async function reconnect(agent: TestAgent, instance: Instance): Promise<TestAgent> {
    const again = new TestAgent({ ...agent.opts, url: instance.ws, instanceUid: agent.uid });
    agents.push(again);
    await again.connect();
    again.hello();
    return again;
  }

  async function lease(agentId: string): Promise<{ instance_id: string; token: string } | undefined> {
    const r = await pair.pg.query<{ instance_id: string; token: string }>('SELECT instance_id, fencing_token::text AS token FROM agent_session_ownership WHERE agent_id = $1', [agentId]);
    return r.rows[0];
  }

  async function metric(instance: Instance, name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(await scrape(instance.url), name, labels);
  }

  beforeAll(async () => {
    await otlp.start();
    const db = await createTestDatabase();
    const base = testEnv(db.url, {
      AMPORA_BACKPLANE: kind,
      AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: String(TTL_SECONDS),
      AMPORA_DISPATCH_FORWARD_TIMEOUT_MS: '1500',
      AMPORA_OPAMP_FLUSH_INTERVAL_MS: '200',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
      LOG_LEVEL: 'Information',
      ...extra,
    });
    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    pair = { db, pg, env: base.env, admin: base.adminToken } as Pair;
    [pair.a, pair.b] = await Promise.all([start(`a-${kind}-${tag}`), start(`b-${kind}-${tag}`)]);
    ready(pair);
  }, 120000);

  afterAll(async () => {
    for (const agent of agents) await agent.close();
    for (const i of [pair.a, pair.b]) expectedExits.add(i.id);
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await pair.pg.end();
    await otlp.stop();
    await pair.db.drop();
  });

  return { otlp, tag, agents, expectedExits, start, api, enroll, reconnect, lease, metric };
}
