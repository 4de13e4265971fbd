import { X509Certificate, createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { OpampTransportService } from '@ampora/opamp';
import { HandoverService, PeerClient, PeersService } from '@ampora/federation';
import { AgentCapability, defaultTenantCaller, eventually, OtlpReceiver, S2A, TestAgent } from '@ampora/testing';
import { Deployment, pair, startDeployment } from './support/federation-kit';
import { collectorYaml, createStaticGroup, expectStatus, PublishedVersion, publishVersions } from './support/rollout-kit';

const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.ReportsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;
const HANDOVER_ENV = { AMPORA_OPAMP_TLS_PORT: '0', AMPORA_OPAMP_REQUIRE_MTLS: 'true', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' };
const fingerprint = (pem: Buffer) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

interface MtlsAgent {
  agent: TestAgent;
  id: string;
  cert: Buffer;
  key: Buffer;
}

/**
 * The handover of an agent between two complete deployments (issue 19 item 5, decision 0371): each
 * with its own database and CA, its OpAMP TLS listener (mTLS required) and federation listener, paired.
 * A WebSocket agent with a certificate of A's CA is handed over to B: B adopts it (its group, its
 * assignment, its leaf trusted), A sends it B's endpoint over OpAMP and marks it MovedToPeer, the
 * agent reconnects to B with the certificate it has and B's frames continue its history. A replayed,
 * expired or altered token is refused.
 */
describe('handover of an agent between two deployments', () => {
  const otlp = new OtlpReceiver();
  let a: Deployment;
  let b: Deployment;
  const versions: { a?: PublishedVersion; b?: PublishedVersion } = {};
  const groups: { a?: { id: string }; b?: { id: string } } = {};
  const agents: TestAgent[] = [];
  const track = (t: TestAgent) => (agents.push(t), t);

  /** A token agent on `d` that takes the certificate offered and moves to the TLS listener with it (as the OpAMP Supervisor does). */
  async function mtlsAgent(d: Deployment, groupId: string): Promise<MtlsAgent> {
    const token = (await expectStatus(d.api, 'POST', '/api/bootstrap-tokens', 201, { label: 'handover', groupId })).body.token as string;
    const first = track(new TestAgent({ url: d.ws, token, capabilities: CAPS }));
    await first.connect();
    first.hello();
    const reply = await first.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate?.cert), 10000);
    await first.close();
    const offer = reply.connection_settings!.opamp!;
    const cert = offer.certificate!.cert!;
    const key = offer.certificate!.private_key!;
    const moved = track(new TestAgent({ url: offer.destination_endpoint!, capabilities: CAPS, instanceUid: first.uid, autoApply: true, wsOptions: { ca: offer.certificate!.ca_cert, cert, key } }));
    await moved.connect();
    moved.hello();
    expect((await moved.next(10000)).error_response).toBeUndefined();
    const id = await eventually(async () => {
      const items = (await expectStatus(d.api, 'GET', `/api/agents?text=${moved.uid.toString('hex').slice(0, 8)}`, 200)).body.items as Array<{ id: string }>;
      if (!items[0]) return undefined;
      const detail = (await expectStatus(d.api, 'GET', `/api/agents/${items[0].id}`, 200)).body;
      return detail.identity.kind === 'certificate' && detail.connection.connected ? (items[0].id as string) : undefined;
    }, 15000);
    return { agent: moved, id, cert, key };
  }

  beforeAll(async () => {
    await otlp.start();
    [a, b] = await Promise.all([startDeployment('ampora-a', { ...HANDOVER_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }), startDeployment('ampora-b', { ...HANDOVER_ENV, OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url })]);
    await pair(a, 'a', b, 'b');
    for (const [d, k] of [[a, 'a'], [b, 'b']] as const) {
      groups[k] = await createStaticGroup(d.api, 'edge');
      [versions[k]] = await publishVersions(d.api, [collectorYaml('handover')], 'edge-collector');
      await expectStatus(d.api, 'PUT', `/api/groups/${groups[k]!.id}/assignment`, 200, { configurationId: versions[k]!.configurationId, version: 1 });
    }
  }, 180000);

  afterAll(async () => {
    for (const t of agents) await t.close();
    await a?.close();
    await b?.close();
    await otlp.stop();
  });

  it('hands an mTLS WebSocket agent over to the peer: adopted there, sent there over OpAMP, MovedToPeer here; it reconnects with its own certificate', async () => {
    const m = await mtlsAgent(a, groups.a!.id);
    await eventually(async () => ((await expectStatus(a.api, 'GET', `/api/agents/${m.id}`, 200)).body.remoteConfig.status === 'APPLIED' ? true : undefined), 15000);

    const result = (await expectStatus(a.api, 'POST', `/api/agents/${m.id}/handover`, 200, { peer: 'b' })).body;
    const bTls = b.server.app.get(OpampTransportService).tlsPort;
    // B's TLS listener under a name its certificate covers (no Host header to go by: the configured names)
    expect(result).toMatchObject({ agentId: m.id, peer: 'b', movedToPeer: 'b', group: 'edge', endpoint: expect.stringMatching(new RegExp(`^wss://(localhost|127\\.0\\.0\\.1):${bTls}/v1/opamp$`)), delivery: 'delivered' });

    // the agent is told where to go, with what verifies B's listener; it keeps its own certificate
    const settings = await eventually(() => m.agent.connectionSettings.find((s) => s.opamp?.destination_endpoint === result.endpoint), 10000);
    expect(settings.opamp!.certificate?.cert ?? Buffer.alloc(0)).toHaveLength(0);
    expect(settings.opamp!.certificate?.ca_cert?.length).toBeGreaterThan(0);

    // it reconnects to B by itself, with the same certificate and instance uid
    await m.agent.close();
    const onB = track(new TestAgent({ url: result.endpoint, capabilities: CAPS, instanceUid: m.agent.uid, autoApply: true, wsOptions: { ca: settings.opamp!.certificate!.ca_cert, cert: m.cert, key: m.key } }));
    await onB.connect();
    onB.hello();
    expect((await onB.next(10000)).error_response).toBeUndefined();

    const there = await eventually(async () => {
      const d = (await expectStatus(b.api, 'GET', `/api/agents/${result.targetAgentId}`, 200)).body;
      return d.connection.connected && d.remoteConfig.status === 'APPLIED' ? d : undefined;
    }, 15000);
    expect(there).toMatchObject({
      instanceUid: m.agent.uid.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
      groupId: groups.b!.id,
      identity: { kind: 'certificate', certificateFingerprint: fingerprint(m.cert) },
      handover: { originPeer: 'a', originAgentId: m.id, movedToPeer: null },
      remoteConfig: { hash: versions.b!.configHash },
    });
    const here = (await expectStatus(a.api, 'GET', `/api/agents/${m.id}`, 200)).body;
    expect(here.handover).toMatchObject({ movedToPeer: 'b', movedAt: expect.any(String) });

    // each side audits it
    const auditA = (await expectStatus(a.api, 'GET', `/api/audit/events?entityType=Agent&entityId=${m.id}&limit=50`, 200)).body.items as Array<{ action: string; additional: Record<string, unknown> }>;
    expect(auditA.find((e) => e.action === 'MovedToPeer')?.additional).toMatchObject({ targetAgentId: result.targetAgentId });
    const auditB = (await expectStatus(b.api, 'GET', `/api/audit/events?entityType=Agent&entityId=${result.targetAgentId}&limit=50`, 200)).body.items as Array<{ action: string; actor: string; additional: Record<string, unknown> }>;
    expect(auditB.find((e) => e.action === 'HandedOverIn')).toMatchObject({ actor: 'peer:a', additional: { fromPeer: 'a', fromAgentId: m.id } });

    // B's frames continue the agent's history under its new id
    await eventually(() => otlp.spans.find((s) => s.name === 'opamp.frame_received' && s.attributes['agent.id'] === result.targetAgentId), 15000);

    // A no longer takes it, and it cannot be handed over twice
    const back = track(new TestAgent({ url: `wss://127.0.0.1:${a.server.app.get(OpampTransportService).tlsPort}/v1/opamp`, capabilities: CAPS, instanceUid: m.agent.uid, wsOptions: { ca: settings.opamp!.certificate!.ca_cert, cert: m.cert, key: m.key, rejectUnauthorized: false } }));
    await back.connect();
    back.hello();
    const outcome = await Promise.race([back.next(5000).then((r: S2A) => `reply: ${r.error_response?.error_message ?? 'no error'}`, () => 'no reply'), back.closed(5000).then((code) => `closed: ${code}`)]);
    // the first frame is refused (attach: the agent was handed over), the socket closed as policy violation
    expect(outcome).toBe('closed: 1008');
    expect((await expectStatus(a.api, 'POST', `/api/agents/${m.id}/handover`, 422, { peer: 'b' })).body.code).toBe('FEDERATION_HANDOVER_NOT_POSSIBLE');
  }, 180000);

  it('refuses a replayed, an expired and an altered token', async () => {
    const m = await mtlsAgent(a, groups.a!.id);
    const { tenantId } = await defaultTenantCaller(a.server.app.get(DataSource), 'Admin', 'handover-test');
    const peer = await a.server.app.get(PeersService).activeByName(tenantId, 'b');
    const service = a.server.app.get(HandoverService);
    const client = a.server.app.get(PeerClient);
    const redeem = (token: string) => client.call<{ agentId: string }>(peer, '/federation/v1/handovers', { method: 'POST', body: { token } });

    const expired = await service.issue(tenantId, m.id, peer, Date.now() - 3600_000 - 1000);
    await expect(redeem(expired.token)).rejects.toMatchObject({ status: 401, code: 'FEDERATION_HANDOVER_TOKEN_EXPIRED' });

    const issued = await service.issue(tenantId, m.id, peer);
    const [prefix, body, signature] = issued.token.split('.');
    const altered = Buffer.from(JSON.stringify({ ...issued.payload, agent: { ...issued.payload.agent, groupName: 'other' } })).toString('base64url');
    await expect(redeem(`${prefix}.${altered}.${signature}`)).rejects.toMatchObject({ status: 401, code: 'FEDERATION_HANDOVER_TOKEN_INVALID' });

    const first = await redeem(issued.token);
    expect(first.status).toBe(201);
    await expect(redeem(`${prefix}.${body}.${signature}`)).rejects.toMatchObject({ status: 409, code: 'FEDERATION_HANDOVER_TOKEN_REPLAYED' });
    // the one redemption made one agent on B
    const adopted = (await expectStatus(b.api, 'GET', `/api/agents/${first.body.agentId}`, 200)).body;
    expect(adopted.handover).toMatchObject({ originPeer: 'a', originAgentId: m.id });
  }, 60000);
});
