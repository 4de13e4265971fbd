import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { FleetModule } from '@ampora/fleet';
import { AGENT_DISPATCHER, AgentDispatcher, desiredConfig, DISPATCH_REPLY_TOPIC, DISPATCH_TOPIC, DispatchEnvelope, remoteConfigCommand } from '@ampora/opamp';
import { AmporaConfig, Backplane, BackplaneKind, buildDataSourceOptions, createBackplane, NestLoggerAdapter, PlatformModule, RedisService } from '@ampora/platform';
import { GovernanceModule } from '@ampora/governance';
import { loadAmporaConfig } from '../apps/composition/src/config';
import {
  createTestDatabase,
  encodeAgentToServer,
  eventually,
  metricValue,
  OtlpReceiver,
  RunningProcess,
  S2A,
  scrape,
  SseClient,
  sseJson,
  startProcess,
  TestAgent,
  TestDatabase,
  testEnv,
} from '@ampora/testing';

const TTL_SECONDS = 6;

/** The bytes of the config an agent received, as text. */
function configText(m: S2A): string | undefined {
  const files = m.remote_config?.config?.config_map ?? {};
  const first = Object.values(files)[0];
  return first?.body ? Buffer.from(first.body).toString('utf8') : undefined;
}

interface Instance {
  id: string;
  process: RunningProcess;
  url: string;
  ws: string;
}

/** A process that holds no sessions, like the worker: platform + fleet (which brings the dispatcher). */
@Module({})
class WorkerLikeModule {
  static forRoot(config: AmporaConfig): DynamicModule {
    return { module: WorkerLikeModule, imports: [PlatformModule.forRoot(config), GovernanceModule, FleetModule] };
  }
}

/**
 * Several server instances as real processes on one PostgreSQL and one Redis (or PostgreSQL alone):
 * forwarding with its trace, no-session pushes, a crash and the takeover of its leases, fencing, and
 * a graceful shutdown.
 */
/** The PostgreSQL run uses no Redis at all: queues on BullMQ's PostgreSQL backend, Redis unreachable. */
const MODES: Array<{ kind: BackplaneKind; extra: Record<string, string> }> = [
  { kind: 'redis', extra: {} },
  { kind: 'postgres', extra: { AMPORA_QUEUE: 'postgres', REDIS_URL: 'redis://127.0.0.1:1' } },
];

describe.each(MODES)('two server instances over the $kind backplane', ({ kind, extra }) => {
  const otlp = new OtlpReceiver();
  let db: TestDatabase;
  let env: Record<string, string>;
  let admin: string;
  let a: Instance;
  let b: Instance;
  let pg: Client;
  const agents: TestAgent[] = [];
  const processes: RunningProcess[] = [];
  const expectedExits = new Set<string>();
  const tag = randomBytes(3).toString('hex');

  async function start(id: string): Promise<Instance> {
    const process = startProcess('server', { ...env, AMPORA_INSTANCE_ID: id });
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
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json', ...headers },
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
    const r = await pg.query<{ instance_id: string; token: string }>('SELECT instance_id, fencing_token::text AS token FROM agent_session_ownership WHERE agent_id = $1', [agentId]);
    return r.rows[0];
  }

  async function metric(instance: Instance, name: string, labels: Record<string, string> = {}): Promise<number> {
    return metricValue(await scrape(instance.url), name, labels);
  }

  beforeAll(async () => {
    await otlp.start();
    db = await createTestDatabase();
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
    env = base.env;
    admin = base.adminToken;
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    [a, b] = await Promise.all([start(`a-${kind}-${tag}`), start(`b-${kind}-${tag}`)]);
  }, 120000);

  afterAll(async () => {
    for (const agent of agents) await agent.close();
    for (const i of [a, b]) expectedExits.add(i.id);
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await pg.end();
    await otlp.stop();
    await db.drop();
  });

  it('delivers a config assigned through B to an agent on A, counts the forward, and traces it end to end', async () => {
    const live = await SseClient.open(`${b.url}/api/live?types=agent.connected`, { token: admin });
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);

    // the agent's connection on A reaches operators watching B
    const connected = await live.waitFor((e) => sseJson<{ entityId: string }>(e).entityId === id);
    expect(sseJson(connected)).toMatchObject({ origin: a.id, payload: { instance: a.id, transport: 'ws' } });
    live.close();

    const traceId = randomBytes(16).toString('hex');
    const yaml = `receivers:\n  otlp: {}\n# via ${b.id}\n`;
    const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml }, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(assigned.status).toBe(200);
    expect(assigned.body.delivery).toBe('delivered');
    const pushed = await agent.nextMatching((m) => Boolean(m.remote_config));
    expect(configText(pushed)).toBe(yaml);

    expect(await metric(b, 'ampora_dispatch_forwarded_total', { tenant: 'default', target_instance: a.id })).toBeGreaterThanOrEqual(1);
    expect(await metric(b, 'ampora_dispatch_local_total')).toBe(0);
    expect(await metric(a, 'ampora_dispatch_envelope_age_seconds_count', { tenant: 'default' })).toBeGreaterThanOrEqual(1);

    // one trace: the REST call on B → opamp.dispatch on B → (envelope) → receive on A → frame sent on A
    const spans = await eventually(() => {
      const t = otlp.trace(traceId);
      const names = new Set(t.map((s) => s.name));
      return ['opamp.frame_sent', 'opamp.dispatch.receive', 'opamp.dispatch', 'POST /api/agents/:id/assign'].every((n) => names.has(n)) ? t : undefined;
    }, 15000);
    const http = spans.find((s) => s.name === 'POST /api/agents/:id/assign')!;
    const dispatch = spans.find((s) => s.name === 'opamp.dispatch')!;
    const receive = spans.find((s) => s.name === 'opamp.dispatch.receive')!;
    const sent = spans.find((s) => s.name === 'opamp.frame_sent' && s.attributes['agent.id'] === id)!;
    expect(http.resource['service.instance.id']).toBe(b.id);
    expect(dispatch).toMatchObject({ resource: { 'service.instance.id': b.id }, attributes: { 'dispatch.target_instance': a.id, 'dispatch.outcome': 'delivered' } });
    expect(receive).toMatchObject({ resource: { 'service.instance.id': a.id }, parentSpanId: dispatch.spanId, attributes: { 'dispatch.source_instance': b.id, 'dispatch.outcome': 'delivered' } });
    expect(sent).toMatchObject({ resource: { 'service.instance.id': a.id }, parentSpanId: receive.spanId, attributes: { 'frame.kind': expect.any(String) } });
    expect(spans.map((s) => s.parentSpanId)).toContain(http.spanId);

    // the live event crossed instances in its trace too: publish on A, consume on B
    const publish = await eventually(() => otlp.spans.find((s) => s.name === 'live_update.publish' && s.resource['service.instance.id'] === a.id && s.attributes['event.type'] === 'agent.connected'));
    const consumed = await eventually(() => otlp.trace(publish.traceId).find((s) => s.name === 'live_update.consume' && s.resource['service.instance.id'] === b.id));
    expect(consumed).toMatchObject({ parentSpanId: publish.spanId, attributes: { 'event.type': 'agent.connected', subscriber: expect.stringMatching(/^sse:bootstrap-admin-/) } });
  });

  it('counts a push to an agent with no session anywhere, and the agent gets its config when it connects', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id)) !== undefined);
    await agent.close();
    await eventually(async () => (await lease(id)) === undefined);
    const before = await metric(b, 'ampora_dispatch_no_session_total', { tenant: 'default' });
    const yaml = 'exporters:\n  debug: {}\n';
    const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('no_session');
    expect(await metric(b, 'ampora_dispatch_no_session_total', { tenant: 'default' })).toBe(before + 1);
    const back = await reconnect(agent, b);
    expect(configText(await back.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('forwards from a process that holds no sessions (the worker) to the instance that does', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: `worker-${kind}-${tag}`, LOG_LEVEL: 'Warning' });
    const worker: INestApplicationContext = await NestFactory.createApplicationContext(WorkerLikeModule.forRoot(config), { logger: new NestLoggerAdapter() });
    try {
      await worker.init();
      const tenantId = (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM agents WHERE id = $1', [id])).rows[0]!.tenant_id;
      const desired = desiredConfig({ '': { body: Buffer.from('processors:\n  batch: {}\n'), contentType: 'text/yaml' } });
      const outcome = await worker.get<AgentDispatcher>(AGENT_DISPATCHER).pushRemoteConfig({ agentId: id, tenantId }, desired, { force: true });
      expect(outcome).toBe('delivered');
      expect(configText(await agent.nextMatching((m) => Boolean(m.remote_config)))).toBe('processors:\n  batch: {}\n');
    } finally {
      await worker.close();
    }
  });

  it('forgets a bootstrap token revoked on another instance at once', async () => {
    const token = (await api(b, 'POST', '/api/bootstrap-tokens', { label: 'revoked elsewhere' })).body as { id: string; token: string };
    const uid = randomBytes(16);
    let seq = 0;
    const poll = () =>
      fetch(`${a.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token.token}` },
        body: encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000, agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'poller' } }] } }),
      });
    expect((await poll()).status).toBe(200);
    expect((await poll()).status).toBe(200); // A now holds the token in its cache
    expect((await api(b, 'DELETE', `/api/bootstrap-tokens/${token.id}`)).status).toBe(204);
    // well inside the 5 s cache lifetime: the revocation travelled over the backplane
    const refused = await eventually(async () => ((await poll()).status === 403 ? true : undefined), 2000, 50);
    expect(refused).toBe(true);
  });

  it('closes the live WebSocket session of a bootstrap token revoked on another instance, and only that one', async () => {
    const issued = (await api(b, 'POST', '/api/bootstrap-tokens', { label: 'revoked while connected' })).body as { id: string; token: string };
    const agent = new TestAgent({ url: a.ws, token: issued.token, autoApply: true });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    expect((await agent.next()).error_response).toBeUndefined();
    const bystander = await enroll(a); // another token, same instance
    const id = await eventually(async () => (await api(a, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);

    expect((await api(b, 'DELETE', `/api/bootstrap-tokens/${issued.id}`)).status).toBe(204);
    expect(await agent.closed(3000)).toBe(4001);
    await eventually(async () => ((await api(b, 'GET', `/api/agents/${id}`)).body.status === 'disconnected' ? true : undefined), 5000);
    // the agent cannot come back with the token
    const again = new TestAgent({ ...agent.opts, url: a.ws, instanceUid: agent.uid });
    agents.push(again);
    await expect(again.connect()).rejects.toMatchObject({ status: 403 });
    // the bystander's session is untouched and still reachable
    await new Promise((r) => setTimeout(r, 300));
    expect(bystander.agent.closeCode).toBeUndefined();
    const yaml = 'receivers: {}\n# still here\n';
    expect((await api(b, 'POST', `/api/agents/${bystander.id}/assign`, { yaml })).body.delivery).toBe('delivered');
    expect(configText(await bystander.agent.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('sends an agent what it was assigned while it connected, when the push from the other instance found no session yet', async () => {
    // hold the lease table: the agent attaches on A (no assignment yet) but A cannot take its lease
    const locker = new Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE agent_session_ownership IN SHARE MODE');
      const token = (await api(a, 'POST', '/api/bootstrap-tokens', { label: 'assigned while connecting' })).body.token as string;
      const agent = new TestAgent({ url: a.ws, token, autoApply: true });
      agents.push(agent);
      await agent.connect();
      agent.hello();
      const first = await agent.next();
      expect(first.error_response).toBeUndefined();
      expect(first.remote_config).toBeUndefined();
      const id = await eventually(async () => (await api(b, 'GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);
      // assigned through B meanwhile: B finds no lease, so the push reaches nobody
      const yaml = 'receivers: {}\n# assigned while connecting\n';
      const assigned = await api(b, 'POST', `/api/agents/${id}/assign`, { yaml });
      expect(assigned.body.delivery).toBe('no_session');
      await expect(agent.nextMatching((m) => Boolean(m.remote_config), 500)).rejects.toThrow();
      await locker.query('COMMIT');
      // A takes the lease, reads the agent's assignment again and sends what changed
      expect(configText(await agent.nextMatching((m) => Boolean(m.remote_config), 5000))).toBe(yaml);
      await eventually(async () => (await lease(id))?.instance_id === a.id);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  });

  it('takes a lease over when the agent reconnects elsewhere: the old instance closes its stale socket and forwards from then on', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const lostBefore = await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' });
    // the agent comes back through B while A still believes its old socket is alive
    const moved = await reconnect(agent, b);
    await moved.next();
    expect(await agent.closed()).toBe(4002);
    await eventually(async () => (await lease(id))?.instance_id === b.id);
    expect(await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' })).toBe(lostBefore + 1);
    // A did not record the agent as disconnected over B's connect
    await new Promise((r) => setTimeout(r, 500));
    expect((await api(b, 'GET', `/api/agents/${id}`)).body).toMatchObject({ status: 'connected', connection: { connected: true, ownerInstance: b.id } });
    const yaml = 'connectors: {}\n# via A\n';
    const assigned = await api(a, 'POST', `/api/agents/${id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('delivered');
    expect(configText(await moved.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);
  });

  it('closes a session whose lease moved without a word (a lost notice) at the next renewal', async () => {
    const { agent, id } = await enroll(a);
    await eventually(async () => (await lease(id))?.instance_id === a.id);
    const lostBefore = await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' });
    await pg.query(`UPDATE agent_session_ownership SET instance_id = 'elsewhere', fencing_token = nextval('agent_session_fencing_seq') WHERE agent_id = $1`, [id]);
    const started = Date.now();
    expect(await agent.closed(TTL_SECONDS * 1000)).toBe(4002);
    expect(Date.now() - started).toBeLessThan((TTL_SECONDS * 1000) / 3 + 1500);
    expect(await metric(a, 'ampora_session_ownership_acquires_total', { outcome: 'lost' })).toBe(lostBefore + 1);
    expect((await lease(id))?.instance_id).toBe('elsewhere');
  });

  it('survives a crash of A: its agents reconnect to B, B takes the leases over in time, pushes reach them, and a late push under A\'s token is fenced', async () => {
    const first = await enroll(a);
    const second = await enroll(a);
    await eventually(async () => (await lease(first.id))?.instance_id === a.id && (await lease(second.id))?.instance_id === a.id);
    const oldToken = (await lease(first.id))!.token;
    const takenOverBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' });

    expectedExits.add(a.id);
    a.process.child.kill('SIGKILL');
    await a.process.exited;
    const killedAt = Date.now();
    await Promise.all([first.agent.closed(), second.agent.closed()]);

    // before the second agent comes back, its lease still names A: the forward goes unanswered
    const unanswered = await api(b, 'POST', `/api/agents/${second.id}/assign`, { yaml: 'service: {}\n# while A is gone\n' });
    expect(unanswered.body.delivery).toBe('unconfirmed');

    const firstBack = await reconnect(first.agent, b);
    await firstBack.next();
    const secondBack = await reconnect(second.agent, b);
    // the assignment made while it was away is what it gets on connecting
    expect(configText(await secondBack.nextMatching((m) => Boolean(m.remote_config)))).toBe('service: {}\n# while A is gone\n');
    await eventually(async () => (await lease(first.id))?.instance_id === b.id && (await lease(second.id))?.instance_id === b.id);
    expect(Date.now() - killedAt).toBeLessThan(TTL_SECONDS * 1000);
    const newToken = (await lease(first.id))!.token;
    expect(BigInt(newToken) > BigInt(oldToken)).toBe(true);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' })).toBe(takenOverBefore + 2);

    const yaml = 'extensions:\n  health_check: {}\n';
    const assigned = await api(b, 'POST', `/api/agents/${first.id}/assign`, { yaml });
    expect(assigned.body.delivery).toBe('delivered');
    expect(configText(await firstBack.nextMatching((m) => Boolean(m.remote_config)))).toBe(yaml);

    // a push that A sent before it died (its token, its name) arrives late at B: refused, not delivered
    const config = loadAmporaConfig({ ...env, AMPORA_INSTANCE_ID: a.id, LOG_LEVEL: 'Warning' });
    const ds = new DataSource(buildDataSourceOptions(config, { entities: [], extra: { max: 2 } }));
    await ds.initialize();
    const redis = new RedisService(config);
    const ghost: Backplane = createBackplane(config, redis, ds);
    await ghost.start();
    try {
      const replies: unknown[] = [];
      ghost.on(DISPATCH_REPLY_TOPIC, (body) => replies.push(body));
      const tenantId = (await pg.query<{ tenant_id: string }>('SELECT tenant_id FROM agents WHERE id = $1', [first.id])).rows[0]!.tenant_id;
      const fencedBefore = await metric(b, 'ampora_dispatch_fenced_total', { tenant: 'default' });
      const envelope: DispatchEnvelope = {
        v: 1,
        id: randomUUID(),
        tenantId,
        agentId: first.id,
        fencingToken: oldToken,
        publishedAt: Date.now() - 3000,
        from: a.id,
        trace: {},
        command: remoteConfigCommand(desiredConfig({ '': { body: Buffer.from('# stale\n'), contentType: 'text/yaml' } }), true),
      };
      await ghost.send(b.id, DISPATCH_TOPIC, envelope);
      await eventually(() => replies.length === 1);
      expect(replies[0]).toEqual({ v: 1, id: envelope.id, outcome: 'stale' });
      expect(await metric(b, 'ampora_dispatch_fenced_total', { tenant: 'default' })).toBe(fencedBefore + 1);
      await expect(firstBack.nextMatching((m) => configText(m) === '# stale\n', 1000)).rejects.toThrow();
    } finally {
      await ghost.stop();
      await redis.onApplicationShutdown();
      await ds.destroy();
    }
  });

  it('shuts down gracefully: stops taking agents, releases its leases and sends its agents elsewhere at once', async () => {
    const c = await start(`c-${kind}-${tag}`);
    const { agent, id } = await enroll(c);
    await eventually(async () => (await lease(id))?.instance_id === c.id);
    const acquiredBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'acquired' });
    const takenOverBefore = await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' });

    expectedExits.add(c.id);
    const stopped = c.process.stop('SIGTERM');
    expect(await agent.closed()).toBe(1001); // going away
    // the lease is gone long before it would have expired
    await eventually(async () => (await lease(id)) === undefined, 3000);
    expect(await stopped).toBe(0);
    expect(c.process.records.some((r) => r.category === 'Ampora.OpAmp.Ownership.SessionLeaseKeeper' && r.Count === 1)).toBe(true);

    const moved = await reconnect(agent, b);
    await moved.next();
    await eventually(async () => (await lease(id))?.instance_id === b.id);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'acquired' })).toBe(acquiredBefore + 1);
    expect(await metric(b, 'ampora_session_ownership_acquires_total', { outcome: 'taken_over' })).toBe(takenOverBefore);
    const ready = await fetch(`${b.url}/health/ready`);
    expect(((await ready.json()) as { checks: Record<string, { status: string }> }).checks.backplane).toEqual({ status: 'up' });
  });
});
