import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { OpampTransportService } from '@ampora/opamp';
import { AgentCapability, captureLogs, eventually, LogCapture, makeTestPki, metricValue, scrape, TestAgent, TestPki } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

/**
 * Everyday operations (issue 27, item 6): forgetting agents (one, in bulk, by retention), operator
 * tags, renaming and deleting configurations, and unique token names.
 */
const serverTls: TestPki = makeTestPki('OpAMP listener (agent operations)');
const CERT_CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;

const yaml = 'receivers:\n  otlp: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n';

describe('everyday operations on agents, configurations and tokens', () => {
  let server: TestServer;
  let wsUrl: string;
  let tlsUrl: string;
  let logs: LogCapture;
  let viewer: string;
  let pg: Client;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    logs = captureLogs('Information');
    server = await startTestServer({
      withWorker: true,
      env: {
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        // only an on-demand reconcile can move agents within the test (tags changed)
        AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS: '3600',
        AMPORA_AGENT_RETENTION_DAYS: '1',
        AMPORA_AGENT_RETENTION_INTERVAL_SECONDS: '1',
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_TLS_CERT_FILE: serverTls.server.certFile,
        AMPORA_OPAMP_TLS_KEY_FILE: serverTls.server.keyFile,
        AMPORA_OPAMP_TLS_CA_FILE: serverTls.caCertFile, // sent with certificate offers (decision 0120)
        AMPORA_OPAMP_REQUIRE_MTLS: 'false',
      },
    });
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
    const port = await eventually(() => server.app.get(OpampTransportService).tlsPort);
    tlsUrl = `wss://127.0.0.1:${port}/v1/opamp`;
    viewer = await createToken(server, 'Viewer');
    pg = new Client({ connectionString: server.db.url });
    await pg.connect();
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await pg?.end();
    await server.close();
  });
  afterEach(() => {
    expect(logs.find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });

  const track = (a: TestAgent) => (agents.push(a), a);
  const byUid = (a: TestAgent) => `/api/agents?text=${a.uid.toString('hex').slice(0, 8)}`;
  const detail = async (id: string) => (await server.as().get(`/api/agents/${id}`).expect(200)).body;
  const audit = async (query: string) => (await server.as().get(`/api/audit/events?${query}&limit=100`).expect(200)).body.items as Array<Record<string, any>>;
  const forgottenTotal = async (reason: string) => metricValue(await scrape(server.url), 'ampora_fleet_agents_forgotten_total', { reason }) ?? 0;

  async function enrol(options: { capabilities?: number; autoApply?: boolean; tokenBody?: Record<string, unknown> } = {}) {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'agent operations', ...(options.tokenBody ?? {}) }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: wsUrl, token, capabilities: options.capabilities, autoApply: options.autoApply }));
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(first.error_response).toBeUndefined();
    const id = await eventually(async () => (await server.as().get(byUid(agent)).expect(200)).body.items[0]?.id as string | undefined);
    await eventually(async () => (await detail(id)).connection.connected);
    return { agent, token, id, first };
  }

  describe('forgetting an agent', () => {
    it('deletes it, revokes its bootstrap token, closes its live session, audits once; the same token and uid cannot come back', async () => {
      const { agent, token, id } = await enrol();
      const before = await forgottenTotal('operator');
      await server.as(viewer).delete(`/api/agents/${id}`).expect(403);

      const res = await server.as().delete(`/api/agents/${id}`).expect(200);
      expect(res.body).toEqual({ agentId: id, certificatesRevoked: 0, bootstrapTokensRevoked: 1 });
      expect(await agent.closed()).toBe(4001);
      await server.as().get(`/api/agents/${id}`).expect(404);
      await server.as().delete(`/api/agents/${id}`).expect(404).expect('content-type', /application\/problem\+json/);

      const events = await audit(`entityType=Agent&entityId=${id}`);
      expect(events.map((e) => e.action)).toEqual(['Forgotten']);
      expect(events[0]!.before).toMatchObject({ instanceUid: expect.any(String), identityKind: 'token' });
      expect(await forgottenTotal('operator')).toBe(before + 1);

      // the same credential and instance uid: refused, and no new agent appears
      const again = track(new TestAgent({ url: wsUrl, token, instanceUid: agent.uid }));
      await expect(again.connect()).rejects.toMatchObject({ status: 403 }); // a revoked credential (decision 0120)
      await new Promise((r) => setTimeout(r, 300));
      expect((await server.as().get(byUid(agent)).expect(200)).body.items).toEqual([]);
    });

    it('closes the session on the instance that holds it when another instance forgets the agent', async () => {
      // a second server of the same deployment (database, Redis, master key), another instance id
      const other = await startTestServer({
        db: server.db,
        env: { AMPORA_REDIS_PREFIX: server.env.AMPORA_REDIS_PREFIX!, AMPORA_MASTER_KEY: server.env.AMPORA_MASTER_KEY!, AMPORA_BOOTSTRAP_ADMIN_TOKEN: server.adminToken, AMPORA_INSTANCE_ID: `agent-ops-b-${process.pid}` },
      });
      try {
        const { agent, id } = await enrol();
        expect((await detail(id)).connection.ownerInstance).not.toBe(`agent-ops-b-${process.pid}`);
        await other.as(server.adminToken).delete(`/api/agents/${id}`).expect(200);
        expect(await agent.closed()).toBe(4001);
        await server.as().get(`/api/agents/${id}`).expect(404);
      } finally {
        await other.close();
      }
    });

    it('revokes its certificate: the mTLS session closes and the same certificate is refused', async () => {
      const { agent, first, id } = await enrol({ capabilities: CERT_CAPS });
      const offered = first.connection_settings?.opamp?.certificate;
      expect(offered?.cert && offered.private_key).toBeTruthy();
      await agent.close();
      const wsOptions = { ca: serverTls.caCert, cert: offered!.cert!, key: offered!.private_key! };
      const withCert = track(new TestAgent({ url: tlsUrl, capabilities: CERT_CAPS, instanceUid: agent.uid, wsOptions }));
      await withCert.connect();
      withCert.hello();
      expect((await withCert.next()).error_response).toBeUndefined();
      await eventually(async () => {
        const d = await detail(id);
        return d.connection.connected && d.identity.kind === 'certificate';
      });
      const cert = (await server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items[0];
      expect(cert.status).not.toBe('revoked');

      const res = await server.as().delete(`/api/agents/${id}`).expect(200);
      expect(res.body).toMatchObject({ agentId: id, certificatesRevoked: 1 });
      expect(await withCert.closed()).toBe(4001);
      expect((await server.as().get(`/api/pki/certificates/${cert.id}`).expect(200)).body).toMatchObject({ status: 'revoked', revocationReason: 'cessationOfOperation' });
      const again = track(new TestAgent({ url: tlsUrl, capabilities: CERT_CAPS, instanceUid: agent.uid, wsOptions }));
      await expect(again.connect()).rejects.toMatchObject({ status: 403 }); // a revoked credential (decision 0120)
      expect((await server.as().get(byUid(agent)).expect(200)).body.items).toEqual([]);
    });

    it('takes its rollout targets with it: a rollout waiting for the agent to apply completes without it', async () => {
      const g = (await server.as().post('/api/groups').send({ name: `rollout-${randomUUID().slice(0, 8)}`, kind: 'Static' }).expect(201)).body;
      const applies = await enrol({ autoApply: true, tokenBody: { groupId: g.id } });
      const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'never applies', groupId: g.id }).expect(201)).body.token as string;
      // accepts remote config but never answers it: the step waits for it
      const stuck = track(new TestAgent({ url: wsUrl, token }));
      await stuck.connect();
      stuck.hello();
      expect((await stuck.next()).error_response).toBeUndefined();
      const stuckId = await eventually(async () => (await server.as().get(byUid(stuck)).expect(200)).body.items[0]?.id as string | undefined);

      const c = (await server.as().post('/api/configurations').send({ name: `rolled-${randomUUID().slice(0, 8)}` }).expect(201)).body;
      await server.as().post(`/api/configurations/${c.id}/versions`).send({ yaml }).expect(201);
      await server.as().post(`/api/configurations/${c.id}/versions/1/publish`).expect(200);
      const r = (await server.as().post('/api/rollouts').send({ name: 'forget mid-step', configurationId: c.id, version: 1, groupId: g.id, strategy: { type: 'Batch', batchSize: 10 } }).expect(201)).body;
      await server.as().post(`/api/rollouts/${r.id}/start`).expect(200);
      const waiting = await eventually(async () => {
        const d = (await server.as().get(`/api/rollouts/${r.id}`).expect(200)).body;
        return d.counts.applied === 1 && d.counts.applying === 1 ? d : undefined;
      }, 20000, 200);
      expect(waiting).toMatchObject({ state: 'InProgress', waitingFor: 'apply' });

      await server.as().delete(`/api/agents/${stuckId}`).expect(200);
      const done = await eventually(async () => {
        const d = (await server.as().get(`/api/rollouts/${r.id}`).expect(200)).body;
        return d.state === 'Completed' ? d : undefined;
      }, 20000, 200);
      expect(done.counts).toMatchObject({ applied: 1, applying: 0, total: 1 });
      const targets = (await server.as().get(`/api/rollouts/${r.id}/targets`).expect(200)).body.items as Array<{ agentId: string }>;
      expect(targets.map((t) => t.agentId)).toEqual([applies.id]);
    });

    it('forgets up to 1,000 agents in one request and one audit event, reporting unknown ids', async () => {
      const one = await enrol();
      const two = await enrol();
      const unknown = randomUUID();
      const res = await server.as().post('/api/agents/bulk/delete').send({ agentIds: [one.id, two.id, one.id, unknown] }).expect(200);
      expect(res.body).toEqual({ forgotten: 2, certificatesRevoked: 0, bootstrapTokensRevoked: 2, skipped: [{ agentId: unknown, reason: 'not_found' }] });
      expect(await one.agent.closed()).toBe(4001);
      expect(await two.agent.closed()).toBe(4001);
      for (const id of [one.id, two.id]) await server.as().get(`/api/agents/${id}`).expect(404);
      const events = (await audit('entityType=Agent&entityId=bulk&action=Forgotten')).filter((e) => (e.additional.agentIds as string[]).includes(one.id));
      expect(events).toHaveLength(1);
      expect(events[0]!.additional).toMatchObject({ count: 2, skipped: [{ agentId: unknown, reason: 'not_found' }] });

      const tooMany = Array.from({ length: 1001 }, () => randomUUID());
      const refused = await server.as().post('/api/agents/bulk/delete').send({ agentIds: tooMany }).expect(400);
      expect(refused.body.code).toBe('VALIDATION_FAILED');
      await server.as().post('/api/agents/bulk/delete').send({ agentIds: [] }).expect(400);
      await server.as(viewer).post('/api/agents/bulk/delete').send({ agentIds: [unknown] }).expect(403);
    });

    it('forgets agents disconnected longer than AMPORA_AGENT_RETENTION_DAYS in the worker, audited and counted; connected ones stay', async () => {
      const gone = await enrol();
      const here = await enrol();
      await gone.agent.close();
      await eventually(async () => !(await detail(gone.id)).connection.connected);
      const before = await forgottenTotal('retention');
      // two days ago, as far as the database knows (the retention is one day)
      await pg.query(`UPDATE agents SET disconnected_at = now() - interval '2 days' WHERE id = $1`, [gone.id]);
      await pg.query(`UPDATE agents SET disconnected_at = now() - interval '2 days' WHERE id = $1`, [here.id]);

      await eventually(async () => (await server.as().get(`/api/agents/${gone.id}`)).status === 404, 20000, 200);
      expect((await detail(here.id)).connection.connected).toBe(true);
      const events = (await audit('entityType=Agent&entityId=bulk&action=Forgotten')).filter((e) => (e.additional.agentIds as string[]).includes(gone.id));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor: 'system:agent-retention', additional: { reason: 'retention', retentionDays: 1 } });
      expect(events[0]!.additional.agentIds).not.toContain(here.id);
      expect(await forgottenTotal('retention')).toBeGreaterThanOrEqual(before + 1);
    });
  });

  describe('operator tags', () => {
    it('sets tags (replacing them), filters the list with ?tag=, and dynamic groups follow tag changes at once', async () => {
      const { id } = await enrol({ tokenBody: { labels: { region: 'eu-1' } } });
      const g = (await server.as().post('/api/groups').send({ name: `by-tag-${randomUUID().slice(0, 8)}`, kind: 'Dynamic', selector: 'tag.team = "payments"' }).expect(201)).body;

      await server.as(viewer).patch(`/api/agents/${id}`).send({ tags: { team: 'payments' } }).expect(403);
      const res = await server.as().patch(`/api/agents/${id}`).send({ tags: { team: 'payments', 'example.com/owner': 'ops' } }).expect(200);
      expect(res.body.tags).toEqual({ team: 'payments', 'example.com/owner': 'ops' });
      // the token's labels were the first tags: a PATCH replaces them all
      expect(res.body.labels).toMatchObject({ team: 'payments' });
      expect(res.body.labels.region).toBeUndefined();

      const listed = async (q: string) => ((await server.as().get(`/api/agents?${q}&limit=500`).expect(200)).body.items as Array<{ id: string }>).map((a) => a.id);
      expect(await listed('tag=team=payments')).toContain(id);
      expect(await listed('tag=team=payments&tag=example.com/owner=ops')).toContain(id);
      expect(await listed('tag=team=search')).not.toContain(id);

      // the periodic reconcile is an hour away: only the tag change can move the agent
      await eventually(async () => (await detail(id)).groupId === g.id, 15000, 200);
      await server.as().patch(`/api/agents/${id}`).send({ tags: { team: 'search' } }).expect(200);
      await eventually(async () => (await detail(id)).groupId === null, 15000, 200);

      const events = await audit(`entityType=Agent&entityId=${id}&action=TagsChanged`);
      expect(events).toHaveLength(2);
      expect(events.map((e) => e.after.tags)).toEqual(expect.arrayContaining([{ team: 'search' }]));
    });

    it('refuses bad keys, bad values, too many tags and an empty body with 400', async () => {
      const { id } = await enrol();
      for (const tags of [{ 'bad key': 'x' }, { '-x': 'y' }, { k: 'a\nb' }, { k: 'v'.repeat(256) }, { k: 1 }, Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']))]) {
        const res = await server.as().patch(`/api/agents/${id}`).send({ tags }).expect(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
      }
      await server.as().patch(`/api/agents/${id}`).send({}).expect(400);
      await server.as().patch(`/api/agents/${id}`).send({ tags: {}, labels: {} }).expect(400);
      await server.as().patch(`/api/agents/${randomUUID()}`).send({ tags: {} }).expect(404);
      const badFilter = await server.as().get('/api/agents?tag=nokv').expect(400);
      expect(badFilter.body).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ field: expect.stringMatching(/^tag/), message: expect.stringContaining('key=value') }] });
    });
  });

  describe('configurations', () => {
    async function published(name = `cfg-${randomUUID().slice(0, 8)}`) {
      const c = (await server.as().post('/api/configurations').send({ name }).expect(201)).body;
      await server.as().post(`/api/configurations/${c.id}/versions`).send({ yaml }).expect(201);
      await server.as().post(`/api/configurations/${c.id}/versions/1/publish`).expect(200);
      return c as { id: string; name: string };
    }

    it('renames and re-describes, refusing a taken name', async () => {
      const a = await published();
      const b = await published();
      const renamed = await server.as().patch(`/api/configurations/${a.id}`).send({ name: `${a.name}-renamed`, description: 'edge' }).expect(200);
      expect(renamed.body).toMatchObject({ id: a.id, name: `${a.name}-renamed`, description: 'edge', publishedVersion: 1 });
      const clash = await server.as().patch(`/api/configurations/${a.id}`).send({ name: b.name }).expect(409);
      expect(clash.body.code).toBe('CONFIGURATION_NAME_TAKEN');
      await server.as().patch(`/api/configurations/${a.id}`).send({}).expect(400);
      await server.as().patch(`/api/configurations/${randomUUID()}`).send({ name: 'x' }).expect(404);
      await server.as(viewer).patch(`/api/configurations/${a.id}`).send({ name: 'x' }).expect(403);
      const events = await audit(`entityType=Configuration&entityId=${a.id}&action=Updated`);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ before: { name: a.name }, after: { name: `${a.name}-renamed`, description: 'edge' } });
    });

    it('deletes one nothing uses; refuses with 409 CONFIGURATION_IN_USE while a group, an agent or a rollout uses it', async () => {
      const free = await published();
      await server.as(viewer).delete(`/api/configurations/${free.id}`).expect(403);
      await server.as().delete(`/api/configurations/${free.id}`).expect(204);
      await server.as().get(`/api/configurations/${free.id}`).expect(404);
      await server.as().delete(`/api/configurations/${free.id}`).expect(404);
      expect((await audit(`entityType=Configuration&entityId=${free.id}&action=Deleted`))).toHaveLength(1);

      // a group
      const byGroup = await published();
      const g = (await server.as().post('/api/groups').send({ name: `g-${randomUUID().slice(0, 8)}`, kind: 'Static' }).expect(201)).body;
      await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: byGroup.id, version: 1 }).expect(200);
      const refused = await server.as().delete(`/api/configurations/${byGroup.id}`).expect(409);
      expect(refused.body).toMatchObject({ code: 'CONFIGURATION_IN_USE', groups: 1, agents: 0 });
      await server.as().delete(`/api/groups/${g.id}/assignment`).expect(200);
      await server.as().delete(`/api/configurations/${byGroup.id}`).expect(204);

      // an agent
      const byAgent = await published();
      const { id } = await enrol();
      await server.as().post(`/api/agents/${id}/assign`).send({ configurationId: byAgent.id, version: 1 }).expect(200);
      expect((await server.as().delete(`/api/configurations/${byAgent.id}`).expect(409)).body).toMatchObject({ code: 'CONFIGURATION_IN_USE', agents: 1 });
      await server.as().get(`/api/configurations/${byAgent.id}`).expect(200);

      // a rollout (kept as history)
      const byRollout = await published();
      const rg = (await server.as().post('/api/groups').send({ name: `rg-${randomUUID().slice(0, 8)}`, kind: 'Static' }).expect(201)).body;
      await server.as().post('/api/rollouts').send({ name: 'r', configurationId: byRollout.id, version: 1, groupId: rg.id }).expect(201);
      expect((await server.as().delete(`/api/configurations/${byRollout.id}`).expect(409)).body).toMatchObject({ code: 'CONFIGURATION_IN_USE', rollouts: true });
      expect((await server.as().get(`/api/configurations/${byRollout.id}/versions/1`).expect(200)).body.status).toBe('Published');
    });
  });

  describe('token names', () => {
    it('are unique per tenant, revoked tokens included: a clash is a 409 TOKEN_NAME_TAKEN', async () => {
      const name = `ci-${randomUUID().slice(0, 8)}`;
      const first = await server.as().post('/api/tokens').send({ name, role: 'Viewer' }).expect(201);
      const clash = await server.as().post('/api/tokens').send({ name, role: 'Operator' }).expect(409);
      expect(clash.body).toMatchObject({ code: 'TOKEN_NAME_TAKEN', name });
      expect(clash.headers['content-type']).toMatch(/application\/problem\+json/);
      await server.as().delete(`/api/tokens/${first.body.id}`).expect(204);
      await server.as().post('/api/tokens').send({ name, role: 'Operator' }).expect(409);
      await server.as().post('/api/tokens').send({ name: `${name}-2`, role: 'Operator' }).expect(201);
    });
  });
});
