import { randomBytes } from 'node:crypto';
import {
  AgentCapability,
  encodeAgentToServer,
  eventually,
  metricValue,
  RemoteConfigStatus,
  scrape,
  TestAgent,
  TestAgentOptions,
} from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

const MAX_BYTES = 64 * 1024;

describe('OpAMP over WebSocket (independent protobufjs codec)', () => {
  let server: TestServer;
  let wsUrl: string;
  let healthy: TestAgent;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: { AMPORA_OPAMP_MAX_MESSAGE_BYTES: String(MAX_BYTES), AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS: '2', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' },
    });
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
    healthy = await enroll();
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  async function bootstrapToken(body: Record<string, unknown> = {}): Promise<string> {
    const res = await server.as().post('/api/bootstrap-tokens').send({ label: 'ws test', ...body }).expect(201);
    expect(res.body.token).toMatch(/^amp-bs\.[A-Z2-7]+\.[A-Z2-7]{7}$/);
    return res.body.token;
  }

  /** Enrols a new agent: token, connection, first status report, first reply. */
  async function enroll(options: Partial<TestAgentOptions> = {}): Promise<TestAgent> {
    const agent = new TestAgent({ url: wsUrl, token: options.token ?? (await bootstrapToken()), ...options });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(first.error_response).toBeUndefined();
    return agent;
  }

  async function agentId(agent: TestAgent): Promise<string> {
    return eventually(async () => {
      const res = await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200);
      return res.body.items[0]?.id as string | undefined;
    });
  }

  async function rejected(reason: string): Promise<number> {
    return metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason });
  }

  /** The healthy agent on its own connection still gets answers. */
  async function healthyStillWorks(): Promise<void> {
    healthy.heartbeat();
    const reply = await healthy.next();
    expect(reply.error_response).toBeUndefined();
    expect(Buffer.from(reply.instance_uid!).equals(healthy.uid)).toBe(true);
  }

  it('answers the first frame with the uid echo and the server capabilities, and lists the agent', async () => {
    const agent = new TestAgent({ url: wsUrl, token: await bootstrapToken({ labels: { tier: 'edge' } }), nonIdentifying: { region: 'eu-west-1' } });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(Buffer.from(first.instance_uid!).equals(agent.uid)).toBe(true);
    const caps = BigInt(first.capabilities!);
    expect(caps & 0x7n).toBe(0x7n); // AcceptsStatus | OffersRemoteConfig | AcceptsEffectiveConfig
    const listed = await eventually(async () => (await server.as().get('/api/agents?label=region=eu-west-1').expect(200)).body.items[0]);
    expect(listed).toMatchObject({ instanceUid: expect.any(String), agentType: 'io.opentelemetry.collector', agentVersion: '0.120.0', status: 'connected' });
    expect(listed.labels).toMatchObject({ region: 'eu-west-1', tier: 'edge', 'service.name': 'io.opentelemetry.collector' });
    const detail = (await server.as().get(`/api/agents/${listed.id}`).expect(200)).body;
    expect(detail.capabilities.names).toEqual(expect.arrayContaining(['ReportsStatus', 'AcceptsRemoteConfig', 'ReportsRemoteConfig']));
    expect(detail.identity).toMatchObject({ kind: 'token', bootstrapTokenId: expect.any(String) });
  });

  it('accepts frames without the header and always answers with it', async () => {
    healthy.send({}, { header: false });
    const reply = await healthy.next(); // TestAgent throws if a frame lacks the 0x00 header
    expect(reply.error_response).toBeUndefined();
    await healthyStillWorks();
  });

  describe('bad input is rejected, counted, and disturbs nobody else', () => {
    it('a text frame', async () => {
      const bad = await enroll();
      const before = await rejected('malformed');
      bad.sendRaw('{"hello":"world"}');
      const reply = await bad.next();
      expect(reply.error_response).toMatchObject({ type: 1, error_message: expect.stringContaining('binary') });
      expect(await rejected('malformed')).toBe(before + 1);
      await healthyStillWorks();
    });

    it('random bytes and a truncated message', async () => {
      const bad = await enroll();
      const before = await rejected('malformed');
      bad.sendRaw(Buffer.from([0x00, 0x07, 0xff, 0xff, 0xff, 0x13, 0x37]));
      expect((await bad.next()).error_response?.type).toBe(1);
      const full = encodeAgentToServer({ instance_uid: bad.uid, sequence_num: 9, capabilities: 1, agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'x'.repeat(40) } }] } });
      bad.sendRaw(Buffer.concat([Buffer.from([0]), full.subarray(0, full.length - 10)]));
      expect((await bad.next()).error_response?.type).toBe(1);
      expect(await rejected('malformed')).toBe(before + 2);
      // the misbehaving agent's own connection also survives
      bad.heartbeat();
      expect((await bad.next()).error_response).toBeUndefined();
      await healthyStillWorks();
    });

    it('an oversize frame closes that connection with 1009', async () => {
      const bad = await enroll();
      const before = await rejected('oversize');
      bad.sendRaw(Buffer.concat([Buffer.from([0]), randomBytes(MAX_BYTES + 1024)]));
      expect(await bad.closed()).toBe(1009);
      expect(await eventually(async () => (await rejected('oversize')) === before + 1)).toBe(true);
      await healthyStillWorks();
    });

    it('no credentials, a garbled token, and somebody else\'s redeemed token', async () => {
      const before = await rejected('auth_failed');
      const anonymous = new TestAgent({ url: wsUrl });
      await expect(anonymous.connect()).rejects.toMatchObject({ status: 401 });
      const garbled = new TestAgent({ url: wsUrl, token: 'amp-bs.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.AAAAAAA' });
      await expect(garbled.connect()).rejects.toMatchObject({ status: 401 });
      // a second agent presenting a token another agent redeemed
      const token = await bootstrapToken();
      await enroll({ token });
      const impostor = new TestAgent({ url: wsUrl, token });
      agents.push(impostor);
      await impostor.connect();
      impostor.hello();
      expect(await impostor.closed()).toBe(1008);
      expect(await rejected('auth_failed')).toBe(before + 3);
      const redemptions = await scrape(server.url);
      expect(metricValue(redemptions, 'ampora_opamp_bootstrap_redemptions_total', { outcome: 'consumed' })).toBeGreaterThanOrEqual(1);
      expect(metricValue(redemptions, 'ampora_opamp_bootstrap_redemptions_total', { outcome: 'malformed' })).toBeGreaterThanOrEqual(1);
      expect(metricValue(redemptions, 'ampora_opamp_bootstrap_redemptions_total', { outcome: 'redeemed' })).toBeGreaterThanOrEqual(2);
      await healthyStillWorks();
    });

    it('a push the agent\'s capabilities do not allow is never sent', async () => {
      const reporter = await enroll({ capabilities: AgentCapability.ReportsStatus | AgentCapability.ReportsEffectiveConfig });
      const id = await agentId(reporter);
      const before = await rejected('cap_mismatch');
      const res = await server.as().post(`/api/agents/${id}/assign`).send({ yaml: 'receivers: {}\n' }).expect(200);
      expect(res.body.delivery).toBe('cap_mismatch');
      expect(await rejected('cap_mismatch')).toBe(before + 1);
      reporter.heartbeat();
      const reply = await reporter.next();
      expect(reply.remote_config).toBeUndefined();
    });
  });

  it('answers a sequence_num gap with ReportFullState', async () => {
    const agent = await enroll();
    agent.heartbeat();
    expect(BigInt((await agent.next()).flags ?? '0') & 1n).toBe(0n);
    agent.send({}, { seq: agent.seq + 5 });
    const reply = await agent.next();
    expect(BigInt(reply.flags ?? '0') & 1n).toBe(1n);
    agent.hello();
    expect(BigInt((await agent.next()).flags ?? '0') & 1n).toBe(0n);
  });

  it('gives a new instance_uid to an agent that duplicates another\'s', async () => {
    const first = await enroll();
    const copy = new TestAgent({ url: wsUrl, token: await bootstrapToken(), instanceUid: Buffer.from(first.uid) });
    agents.push(copy);
    await copy.connect();
    copy.hello();
    const reply = await copy.next();
    const fresh = reply.agent_identification?.new_instance_uid;
    expect(fresh).toHaveLength(16);
    expect(Buffer.from(fresh!).equals(first.uid)).toBe(false);
    expect(copy.uid.equals(Buffer.from(fresh!))).toBe(true);
    copy.heartbeat();
    expect((await copy.next()).error_response).toBeUndefined();
    first.heartbeat();
    expect((await first.next()).error_response).toBeUndefined();
    const ids = new Set([await agentId(first), await agentId(copy)]);
    expect(ids.size).toBe(2);
  });

  it('does not re-offer a config the agent rolled back from (the rollback trap)', async () => {
    const agent = await enroll();
    const id = await agentId(agent);
    const previous = randomBytes(32); // the hash of what it ran before
    await server.as().post(`/api/agents/${id}/assign`).send({ yaml: 'exporters: {broken: {}}\n' }).expect(200);
    const offer = await agent.nextMatching((m) => Boolean(m.remote_config));
    const hashB = Buffer.from(offer.remote_config!.config_hash!);
    agent.reportRemoteConfig(RemoteConfigStatus.APPLYING, hashB);
    agent.reportRemoteConfig(RemoteConfigStatus.FAILED, hashB, 'unknown exporter type "broken"');
    agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, previous);
    for (let i = 0; i < 3; i++) agent.heartbeat();
    const replies = await Promise.all([0, 1, 2, 3, 4, 5].map(() => agent.next()));
    expect(replies.filter((r) => r.remote_config)).toHaveLength(0);
    // not on a new connection either
    await agent.close();
    await agent.connect();
    agent.hello({ remote_config_status: { status: RemoteConfigStatus.APPLIED, last_remote_config_hash: previous } });
    expect((await agent.next()).remote_config).toBeUndefined();
    const detail = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.remoteConfig.failedHash ? d : undefined;
    });
    expect(detail.remoteConfig.failedHash).toBe(hashB.toString('hex'));
    // a new assignment is offered again
    await server.as().post(`/api/agents/${id}/assign`).send({ yaml: 'exporters: {debug: {}}\n' }).expect(200);
    const next = await agent.nextMatching((m) => Boolean(m.remote_config));
    expect(Buffer.from(next.remote_config!.config_hash!).equals(hashB)).toBe(false);
  });

  it('offers a heartbeat interval to agents that accept connection settings, once', async () => {
    const agent = new TestAgent({
      url: wsUrl,
      token: await bootstrapToken(),
      capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat,
    });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(first.connection_settings?.opamp?.heartbeat_interval_seconds).toBe('30');
    expect(first.connection_settings?.hash).toHaveLength(32);
    agent.heartbeat();
    expect((await agent.next()).connection_settings).toBeUndefined();
  });

  it('marks an agent stale after the heartbeat window without a frame, connected again after one', async () => {
    const agent = await enroll();
    const id = await agentId(agent);
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.status === 'stale', 6000, 200);
    expect((await server.as().get('/api/agents?status=stale').expect(200)).body.items.map((a: { id: string }) => a.id)).toContain(id);
    agent.heartbeat();
    await agent.next();
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.status === 'connected');
  });

  it('ends the session on AgentDisconnect and on the operator\'s disconnect', async () => {
    const leaving = await enroll();
    const leavingId = await agentId(leaving);
    leaving.send({ agent_disconnect: {} });
    await leaving.next();
    expect(await leaving.closed()).toBe(1000);
    await eventually(async () => (await server.as().get(`/api/agents/${leavingId}`).expect(200)).body.status === 'disconnected');

    const kicked = await enroll();
    const kickedId = await agentId(kicked);
    const res = await server.as().post(`/api/agents/${kickedId}/disconnect`).expect(200);
    expect(res.body.delivery).toBe('delivered');
    expect(await kicked.closed()).toBe(4001);
    await eventually(async () => (await server.as().get(`/api/agents/${kickedId}`).expect(200)).body.status === 'disconnected');
    const audit = await server.as().get(`/api/audit/events?entityType=Agent&entityId=${kickedId}`).expect(200);
    expect(audit.body.items[0]).toMatchObject({ action: 'Disconnected' });
    // it can come back with the same token
    await kicked.connect();
    kicked.hello();
    expect((await kicked.next()).error_response).toBeUndefined();
  });

  it('counts frames by kind and sessions by tenant and instance', async () => {
    const text = await scrape(server.url);
    expect(metricValue(text, 'ampora_opamp_frames_received_total', { frame_kind: 'status' })).toBeGreaterThan(5);
    expect(metricValue(text, 'ampora_opamp_frames_received_total', { frame_kind: 'heartbeat' })).toBeGreaterThan(5);
    expect(metricValue(text, 'ampora_opamp_active_sessions', { tenant: 'default', instance: server.config.app.instanceId })).toBeGreaterThan(3);
  });
});
