import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { decodeServerToAgent, encodeAgentToServer, eventually, metricValue, scrape } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

type Client = ReturnType<typeof createOpAMPClient>;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('OpAMP over plain HTTP', () => {
  let server: TestServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_OPAMP_MAX_MESSAGE_BYTES: String(64 * 1024), AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' } });
  });
  afterAll(async () => {
    for (const c of clients) await c.shutdown().catch(() => undefined);
    await server.close();
  });

  async function bootstrapToken(): Promise<string> {
    return (await server.as().post('/api/bootstrap-tokens').send({ label: 'http test', labels: { site: 'lab' } }).expect(201)).body.token;
  }

  function elasticClient(token: string, onConfig?: (config: { hash: Uint8Array; body: string }) => void): Client {
    let client: Client;
    // eslint-disable-next-line prefer-const
    client = createOpAMPClient({
      endpoint: `${server.url}/v1/opamp`,
      headers: { authorization: `Bearer ${token}` },
      heartbeatIntervalSeconds: 0.2,
      capabilities: BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as unknown as bigint) | BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as unknown as bigint),
      onMessage: ({ remoteConfig }: { remoteConfig?: { configHash: Uint8Array; config?: { configMap: Record<string, { body: Uint8Array }> } } }) => {
        if (!remoteConfig) return;
        const body = Buffer.from(Object.values(remoteConfig.config?.configMap ?? {})[0]?.body ?? new Uint8Array()).toString('utf8');
        onConfig?.({ hash: remoteConfig.configHash, body });
      },
      log: quiet,
    } as never);
    clients.push(client);
    return client;
  }

  it('enrols the real client, shows it, delivers an assigned config, and records APPLIED', async () => {
    const token = await bootstrapToken();
    const received: Array<{ hash: Uint8Array; body: string }> = [];
    const client = elasticClient(token, (c) => {
      received.push(c);
      client.setRemoteConfigStatus({ status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, lastRemoteConfigHash: c.hash });
    });
    client.setAgentDescription({
      identifyingAttributes: { 'service.name': 'checkout', 'service.version': '2.4.1', 'service.instance.id': 'checkout-7' },
      nonIdentifyingAttributes: { 'host.name': 'node-17', 'deployment.environment': 'prod' },
    });
    client.start();

    const agent = await eventually(async () => (await server.as().get('/api/agents?label=service.name=checkout').expect(200)).body.items[0]);
    expect(agent).toMatchObject({ displayName: 'node-17', agentType: 'checkout', agentVersion: '2.4.1', status: 'connected' });
    expect(agent.labels).toMatchObject({ site: 'lab', 'deployment.environment': 'prod', 'service.instance.id': 'checkout-7' });
    const detail = (await server.as().get(`/api/agents/${agent.id}`).expect(200)).body;
    expect(detail.connection.transport).toBe('http');
    expect(detail.capabilities.names).toEqual(expect.arrayContaining(['AcceptsRemoteConfig', 'ReportsRemoteConfig', 'ReportsHeartbeat']));

    const yaml = '# edge collectors\nreceivers:\n  otlp: &otlp\n    protocols: {grpc: {}}\nexporters:\n  debug: {}\n';
    const assigned = await server.as().post(`/api/agents/${agent.id}/assign`).send({ yaml }).expect(200);
    expect(assigned.body.delivery).toBe('queued');
    await eventually(() => received.length > 0);
    expect(received[0]!.body).toBe(yaml);
    expect(Buffer.from(received[0]!.hash).toString('hex')).toBe(assigned.body.configHash);

    const applied = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${agent.id}`).expect(200)).body;
      return d.remoteConfig.status === 'APPLIED' ? d : undefined;
    });
    expect(applied.remoteConfig.hash).toBe(assigned.body.configHash);
    expect(applied.assignedConfig.files[0].body).toBe(yaml);
    // not offered again once applied
    const count = received.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(received.length).toBe(count);

    const metrics = await scrape(server.url);
    expect(metricValue(metrics, 'ampora_opamp_apply_duration_seconds_count', { tenant: 'default', agent_type: 'checkout' })).toBe(1);
    expect(metricValue(metrics, 'ampora_opamp_frames_received_total', { tenant: 'default' })).toBeGreaterThan(2);

    // a second client with the same token is refused
    const before = metricValue(metrics, 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' });
    const impostor = elasticClient(token);
    impostor.setAgentDescription({ identifyingAttributes: { 'service.name': 'impostor' }, nonIdentifyingAttributes: {} });
    impostor.start();
    await eventually(async () => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' }) > before);
    await impostor.shutdown();
    const all = (await server.as().get('/api/agents?label=site=lab').expect(200)).body.items;
    expect(all.map((a: { agentType: string }) => a.agentType)).not.toContain('impostor');
    expect(metricValue(await scrape(server.url), 'ampora_opamp_bootstrap_redemptions_total', { outcome: 'consumed' })).toBeGreaterThanOrEqual(1);
  });

  describe('the wire, by hand', () => {
    let token: string;
    const uid = randomBytes(16);
    let seq = 0;
    beforeAll(async () => {
      token = await bootstrapToken();
    });

    const hello = () =>
      encodeAgentToServer({
        instance_uid: uid,
        sequence_num: ++seq,
        capabilities: 0x1 | 0x2 | 0x1000,
        agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'by-hand' } }] },
      });

    async function post(body: Buffer, headers: Record<string, string> = {}): Promise<Response> {
      return fetch(`${server.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}`, ...headers },
        body,
      });
    }

    it('answers application/x-protobuf exactly, accepts gzip bodies and gzips when asked', async () => {
      const res = await post(gzipSync(hello()), { 'content-encoding': 'gzip', 'accept-encoding': 'gzip;q=1.0, identity;q=0.5' });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/x-protobuf');
      // fetch inflates transparently; ask without fetch's own decoding to see the raw encoding
      const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
        const req = require('node:http').request(`${server.url}/v1/opamp`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' } }, (r: import('node:http').IncomingMessage) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ encoding: r.headers['content-encoding'], body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000 }));
      });
      expect(raw.encoding).toBe('gzip');
      const reply = decodeServerToAgent(gunzipSync(raw.body));
      expect(Buffer.from(reply.instance_uid!).equals(uid)).toBe(true);
      const plain = await post(encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000 }), { 'accept-encoding': 'gzip;q=0' });
      expect(plain.headers.get('content-encoding')).toBeNull();
    });

    it('uses the OpAMP-Instance-UID header when the body has no uid', async () => {
      const res = await post(encodeAgentToServer({ sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000 }), { 'opamp-instance-uid': [uid.toString('hex').slice(0, 8), uid.toString('hex').slice(8, 12), uid.toString('hex').slice(12, 16), uid.toString('hex').slice(16, 20), uid.toString('hex').slice(20)].join('-') });
      expect(res.status).toBe(200);
      const reply = decodeServerToAgent(Buffer.from(await res.arrayBuffer()));
      expect(reply.error_response).toBeUndefined();
      expect(Buffer.from(reply.instance_uid!).equals(uid)).toBe(true);
    });

    it('rejects and counts: undecodable (400 + BadRequest), wrong type (415), oversize after inflation (413), no credentials (401)', async () => {
      const metric = async (reason: string) => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason });
      const malformed = await metric('malformed');
      const bad = await post(Buffer.from([0x07, 0x01, 0x02]));
      expect(bad.status).toBe(400);
      expect(decodeServerToAgent(Buffer.from(await bad.arrayBuffer())).error_response).toMatchObject({ type: 1 });
      const wrongType = await fetch(`${server.url}/v1/opamp`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{}' });
      expect(wrongType.status).toBe(415);
      expect(await metric('malformed')).toBe(malformed + 2);

      const oversize = await metric('oversize');
      const bomb = gzipSync(Buffer.alloc(2 * 1024 * 1024)); // 2 KiB on the wire, 2 MiB inflated
      expect(bomb.length).toBeLessThan(64 * 1024);
      expect((await post(bomb, { 'content-encoding': 'gzip' })).status).toBe(413);
      expect(await metric('oversize')).toBe(oversize + 1);

      const authFailed = await metric('auth_failed');
      const anonymous = await fetch(`${server.url}/v1/opamp`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: hello() });
      expect(anonymous.status).toBe(401);
      expect(await metric('auth_failed')).toBe(authFailed + 1);

      // and the well-behaved agent is unaffected
      const ok = await post(encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000 }));
      expect(ok.status).toBe(200);
    });
  });
});

describe('HTTP agents are bound to their credential again now and then', () => {
  let server: TestServer;
  beforeAll(async () => {
    // a long ownership TTL keeps the lease keeper's periodic renewal (every TTL/3) out of the counter read below
    server = await startTestServer({ env: { AMPORA_OPAMP_HTTP_RECHECK_SECONDS: '1', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600' } });
  });
  afterAll(() => server.close());

  it('re-checks a polling agent after the interval without counting a new connection, and refuses it once the check fails', async () => {
    const { token, id } = (await server.as().post('/api/bootstrap-tokens').send({ label: 'recheck' }).expect(201)).body;
    const uid = randomBytes(16);
    let seq = 0;
    const poll = () =>
      fetch(`${server.url}/v1/opamp`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        body: encodeAgentToServer({ instance_uid: uid, sequence_num: ++seq, capabilities: 0x1 | 0x2 | 0x1000, agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'recheck' } }] } }),
      });
    const renewed = async () => metricValue(await scrape(server.url), 'ampora_session_ownership_acquires_total', { outcome: 'renewed' });
    expect((await poll()).status).toBe(200);
    const before = await renewed();
    expect((await poll()).status).toBe(200); // within the interval: the same session, no check
    expect(await renewed()).toBe(before);
    await new Promise((r) => setTimeout(r, 1100));
    const reply = await poll(); // after it: attached again (same instance: the lease is renewed)
    expect(reply.status).toBe(200);
    expect(decodeServerToAgent(Buffer.from(await reply.arrayBuffer())).flags ?? '0').toBe('0'); // no ReportFullState: same session state
    // the lease is taken after the reply goes out (lease operations are queued per agent), so wait for it
    await eventually(async () => (await renewed()) >= before + 1);
    expect(await renewed()).toBe(before + 1);
    const agentId = (await server.as().get('/api/agents?label=service.name=recheck').expect(200)).body.items[0].id as string;
    const connects = (await server.as().get(`/api/audit/events?entityType=BootstrapToken&entityId=${id}`).expect(200)).body.items.length;
    expect(connects).toBe(2); // created and redeemed once, never again
    // the binding check now fails (another uid holds the agent): the next re-check refuses the poller
    const { Client } = await import('pg');
    const db = new Client({ connectionString: server.db.url });
    await db.connect();
    await db.query(`UPDATE agents SET instance_uid = gen_random_uuid() WHERE id = $1`, [agentId]);
    await db.end();
    expect((await poll()).status).toBe(200); // still inside the interval
    await new Promise((r) => setTimeout(r, 1100));
    expect((await poll()).status).toBe(401);
  });
});
