import { AgentCapability, captureLogs, eventually, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

type Settings = NonNullable<TestAgent['connectionSettings'][number]>;

const BASE = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.ReportsHeartbeat;
const TRACES_URL = 'https://otlp.example.test/v1/traces';
const LOGS_URL = 'https://otlp.example.test/v1/logs';
const BACKEND_SECRET = 'backend-secret-5be1c0';

/**
 * The own traces and own logs offers (issue 20 item 1, decision 0320): with an operator's OTLP
 * endpoints set, agents that report their own traces or logs are offered them beside own_metrics, with
 * the operator's headers; Ampora forwards nothing itself (the agents send to that endpoint) and keeps
 * what each agent says it did with the offer (its ConnectionSettingsStatus, decision 0382). Real
 * server, PostgreSQL, Redis, WebSocket agents.
 */
describe('own traces and logs offers', () => {
  const logs = captureLogs('Debug');
  let server: TestServer;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        AMPORA_AGENT_TELEMETRY_TRACES_URL: TRACES_URL,
        AMPORA_AGENT_TELEMETRY_LOGS_URL: LOGS_URL,
        AMPORA_AGENT_TELEMETRY_OTLP_HEADERS: `Authorization=Bearer ${BACKEND_SECRET}, X-Scope-OrgID=fleet-a`,
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        LOG_LEVEL: 'Debug',
      },
    });
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  /** Connects an agent with these capabilities (a token of its own); its first reply and its id. */
  async function connect(capabilities: number) {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'own telemetry' }).expect(201)).body.token as string;
    const agent = new TestAgent({ url: `ws://127.0.0.1:${server.port}/v1/opamp`, token, capabilities });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const reply = await agent.next();
    expect(reply.error_response).toBeUndefined();
    const id = await eventually(async () => (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    return { agent, reply, id };
  }
  const headersOf = (s: Settings['own_logs']) => Object.fromEntries((s?.headers?.headers ?? []).map((h) => [h.key, h.value]));

  it('offers own_traces and own_logs at the operator\'s endpoints with the operator\'s headers, beside own_metrics at Ampora', async () => {
    const { reply } = await connect(BASE | AgentCapability.ReportsOwnTraces | AgentCapability.ReportsOwnLogs | AgentCapability.ReportsOwnMetrics);
    const s = reply.connection_settings!;
    expect(s.hash?.length).toBe(32);
    expect(s.own_traces?.destination_endpoint).toBe(TRACES_URL);
    expect(s.own_logs?.destination_endpoint).toBe(LOGS_URL);
    expect(headersOf(s.own_traces)).toEqual({ Authorization: `Bearer ${BACKEND_SECRET}`, 'X-Scope-OrgID': 'fleet-a' });
    expect(headersOf(s.own_logs)).toEqual({ Authorization: `Bearer ${BACKEND_SECRET}`, 'X-Scope-OrgID': 'fleet-a' });
    // own metrics come to Ampora, with the agent's own intake credential, not the operator's headers
    expect(s.own_metrics?.destination_endpoint).toBe(`${server.config.app.publicUrl}/v1/metrics`);
    expect(headersOf(s.own_metrics)).toEqual({ Authorization: expect.stringMatching(/^Bearer ampt1\./) });
  });

  it('offers each agent only the signals it reports', async () => {
    const logsOnly = (await connect(BASE | AgentCapability.ReportsOwnLogs)).reply.connection_settings;
    expect(logsOnly?.own_logs?.destination_endpoint).toBe(LOGS_URL);
    expect(logsOnly?.own_traces).toBeUndefined();
    expect(logsOnly?.own_metrics).toBeUndefined();
    const tracesOnly = (await connect(BASE | AgentCapability.ReportsOwnTraces)).reply.connection_settings;
    expect(tracesOnly?.own_traces?.destination_endpoint).toBe(TRACES_URL);
    expect(tracesOnly?.own_logs).toBeUndefined();
    // nothing of its own reported, no connection settings capability: no offer at all
    expect((await connect(BASE)).reply.connection_settings).toBeUndefined();
  });

  it('offers the same settings (the same hash) on every connection, so a reconnecting agent has nothing to re-apply', async () => {
    const caps = BASE | AgentCapability.ReportsOwnTraces | AgentCapability.ReportsOwnLogs;
    const first = await connect(caps);
    await first.agent.close();
    // the same agent (its token, its instance uid) connects again
    await first.agent.connect();
    first.agent.hello();
    const again = await first.agent.nextMatching((m) => Boolean(m.connection_settings));
    expect(again.connection_settings?.hash?.toString('hex')).toBe(first.reply.connection_settings!.hash!.toString('hex'));
    expect(again.connection_settings?.own_logs?.destination_endpoint).toBe(LOGS_URL);
    expect((await server.as().get(`/api/agents?text=${first.agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([first.id]);
  });

  it('keeps what the agent did with the offer (its ConnectionSettingsStatus) and shows it on the agent', async () => {
    const { agent, reply, id } = await connect(BASE | AgentCapability.ReportsOwnLogs | AgentCapability.ReportsOwnTraces);
    const hash = reply.connection_settings!.hash!;
    expect((await server.as().get(`/api/agents/${id}`).expect(200)).body.connectionSettings).toBeNull();
    agent.send({ connection_settings_status: { last_connection_settings_hash: hash, status: 1 } });
    const applied = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.connectionSettings?.status === 'APPLIED' ? d.connectionSettings : undefined;
    });
    expect(applied).toEqual({ status: 'APPLIED', hash: hash.toString('hex'), errorMessage: null });
    agent.send({ connection_settings_status: { last_connection_settings_hash: hash, status: 3, error_message: 'own logs exporter: connection refused' } });
    const failed = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.connectionSettings?.status === 'FAILED' ? d.connectionSettings : undefined;
    });
    expect(failed).toEqual({ status: 'FAILED', hash: hash.toString('hex'), errorMessage: 'own logs exporter: connection refused' });
  });

  it('forwards and stores no traces or logs itself: its OTLP intake takes metrics only, and the operator\'s headers are never shown or logged', async () => {
    const { id } = await connect(BASE | AgentCapability.ReportsOwnLogs | AgentCapability.ReportsOwnTraces);
    for (const path of ['/v1/traces', '/v1/logs']) {
      const res = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.alloc(0) });
      expect(res.status).toBe(404);
    }
    const detail = JSON.stringify((await server.as().get(`/api/agents/${id}`).expect(200)).body);
    expect(detail).not.toContain(BACKEND_SECRET);
    expect(logs.lines.join('\n')).not.toContain(BACKEND_SECRET);
  });
});
