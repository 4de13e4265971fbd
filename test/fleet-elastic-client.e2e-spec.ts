import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { eventually, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

type Client = ReturnType<typeof createOpAMPClient>;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const YAML = `# checkout collectors
receivers:
  otlp: &defaults
    protocols: {http: {}}
exporters:
  otlp:
    endpoint: collector.example:4317
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp]
`;

/**
 * A version published and assigned through a group reaches the real Elastic OpAMP client (plain
 * HTTP), which applies it. That client cannot report an effective config (it supports only
 * ReportsStatus, ReportsHeartbeat, AcceptsRemoteConfig and ReportsRemoteConfig), so the drift part
 * uses the WebSocket TestAgent in the same group, which can.
 */
describe('a group assignment reaches the real OpAMP client; drift', () => {
  let server: TestServer;
  let client: Client | undefined;
  let ws: TestAgent | undefined;

  beforeAll(async () => {
    server = await startTestServer({ env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' } });
  });
  afterAll(async () => {
    await client?.shutdown().catch(() => undefined);
    await ws?.close();
    await server.close();
  });

  it('publishes, assigns through a group, the client applies it, no drift; then drift appears', async () => {
    const configuration = (await server.as().post('/api/configurations').send({ name: 'checkout-collectors' }).expect(201)).body;
    const version = (await server.as().post(`/api/configurations/${configuration.id}/versions`).send({ yaml: YAML }).expect(201)).body;
    expect(version.findings).toEqual([]);
    await server.as().post(`/api/configurations/${configuration.id}/versions/${version.number}/publish`).expect(200);
    const group = (await server.as().post('/api/groups').send({ name: 'checkout', kind: 'Static' }).expect(201)).body;
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'checkout hosts', groupId: group.id }).expect(201)).body.token;

    const received: Array<{ hash: Uint8Array; body: string }> = [];
    const c = createOpAMPClient({
      endpoint: `${server.url}/v1/opamp`,
      headers: { authorization: `Bearer ${token}` },
      heartbeatIntervalSeconds: 0.2,
      capabilities: BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as unknown as bigint) | BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as unknown as bigint),
      onMessage: ({ remoteConfig }: { remoteConfig?: { configHash: Uint8Array; config?: { configMap: Record<string, { body: Uint8Array }> } } }) => {
        if (!remoteConfig) return;
        const body = Buffer.from(Object.values(remoteConfig.config?.configMap ?? {})[0]?.body ?? new Uint8Array()).toString('utf8');
        received.push({ hash: remoteConfig.configHash, body });
        c.setRemoteConfigStatus({ status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, lastRemoteConfigHash: remoteConfig.configHash });
      },
      log: quiet,
    } as never);
    client = c;
    c.setAgentDescription({ identifyingAttributes: { 'service.name': 'checkout', 'service.version': '3.1.0' }, nonIdentifyingAttributes: { 'host.name': 'checkout-1' } });
    c.start();

    // enrolled with the token, it is in the group from its first frame
    const agent = await eventually(async () => {
      const a = (await server.as().get(`/api/agents?groupId=${group.id}`).expect(200)).body.items[0];
      return a?.agentType === 'checkout' ? a : undefined;
    });
    expect(agent).toMatchObject({ groupId: group.id, status: 'connected' });

    // assigning through the group queues it for the client's next poll
    const assigned = (await server.as().put(`/api/groups/${group.id}/assignment`).send({ configurationId: configuration.id, version: version.number }).expect(200)).body;
    expect(assigned).toMatchObject({ changedAgents: 1, dispatch: { mode: 'inline', outcomes: { queued: 1 }, notAcceptingRemoteConfigCount: 0 } });
    await eventually(() => received.length > 0);
    expect(received[0]!.body).toBe(YAML);
    expect(Buffer.from(received[0]!.hash).toString('hex')).toBe(version.configHash);

    const applied = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${agent.id}`).expect(200)).body;
      return d.remoteConfig.status === 'APPLIED' ? d : undefined;
    });
    expect(applied).toMatchObject({
      remoteConfig: { hash: version.configHash },
      assignedConfig: { hash: version.configHash, contentHash: version.hash },
      assignment: { source: 'group', versionId: version.id, configurationId: configuration.id, version: version.number },
      // the client applied what it was sent and cannot report an effective config: no drift shown
      drift: 'unknown',
    });
    expect((await server.as().get('/api/agents?drift=true').expect(200)).body.items).toEqual([]);

    // an agent of the same group that reports its effective config: equal, then different
    const wsToken = (await server.as().post('/api/bootstrap-tokens').send({ label: 'checkout ws', groupId: group.id }).expect(201)).body.token;
    ws = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token: wsToken, autoApply: true, reportEffective: true });
    await ws.connect();
    ws.hello();
    await eventually(() => ws!.appliedBody === YAML);
    const wsId = await eventually(async () => (await server.as().get(`/api/agents?text=${ws!.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    await eventually(async () => (await server.as().get(`/api/agents/${wsId}`).expect(200)).body.drift === false);
    expect((await server.as().get('/api/agents?drift=false').expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([wsId]);
    expect((await server.as().get('/api/agents?drift=true').expect(200)).body.items).toEqual([]);

    ws.reportEffective(YAML.replace('collector.example:4317', 'fallback.example:4317'));
    await eventually(async () => (await server.as().get(`/api/agents/${wsId}`).expect(200)).body.drift === true);
    expect((await server.as().get('/api/agents?drift=true').expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([wsId]);
    const drift = (await server.as().get(`/api/agents/${wsId}/drift`).expect(200)).body;
    expect(drift).toMatchObject({ drift: true, assignedHash: version.hash, semantic: [{ kind: 'component_changed', summary: 'exporter otlp: endpoint changed' }] });
    expect(drift.unified).toContain('-    endpoint: collector.example:4317\n+    endpoint: fallback.example:4317\n');
  });
});
