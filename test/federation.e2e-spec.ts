import { DataSource } from 'typeorm';
import { collectMetric, defaultTenantCaller, eventually, OtlpReceiver } from '@ampora/testing';
import { activePeer, Deployment, KillableRelay, pair, silentServer, startDeployment } from './support/federation-kit';
import { PeerClient, PeersService } from '@ampora/federation';
import { apiClient, collectorYaml, createStaticGroup, enrollAgents, expectStatus, publishVersions, SimAgent } from './support/rollout-kit';
import { createToken } from './support/test-server';

/**
 * Federation between two complete deployments in this process (issue 19): each with its own database
 * (its own CA), master key, Redis prefix, HTTP port and federation listener. Pairing with four-eyes
 * approval, ping green and each red factor, the federated fleet view (paging across peers, a peer
 * killed mid-request), and the federation telemetry (metrics, the span, a trace crossing the call).
 */
describe('federation between two deployments', () => {
  const otlp = new OtlpReceiver();
  let a: Deployment;
  let b: Deployment;
  let secrets: { aToB: string; bToA: string };
  const sims: SimAgent[] = [];
  const cleanups: Array<() => void> = [];

  beforeAll(async () => {
    await otlp.start();
    a = await startDeployment('ampora-a', { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    b = await startDeployment('ampora-b', { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    // two servers booting one after the other on a loaded machine
  }, 120000);

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    for (const c of cleanups) c();
    await a?.close();
    await b?.close();
    await otlp.stop();
  });

  it('issues federation certificates from each deployment\'s own CA, 90 days, the key kept server-side', async () => {
    expect(a.fingerprint).not.toBe(b.fingerprint);
    const listed = (await expectStatus(a.api, 'GET', '/api/federation/certificates', 200)).body;
    expect(listed.items).toHaveLength(1);
    const c = listed.items[0];
    expect(c.subject).toContain('CN=ampora-a');
    expect(Math.round((Date.parse(c.notAfter) - Date.now()) / 86_400_000)).toBe(90);
    expect(JSON.stringify(listed)).not.toContain('PRIVATE KEY');
  });

  it('pairs the two with four-eyes approval; the secrets are shown once', async () => {
    const created = (await expectStatus(a.api, 'POST', '/api/federation/peers', 201, { name: 'b', endpoint: b.endpoint, remoteCertificatePem: b.certificatePem })).body;
    expect(created.peer).toMatchObject({ name: 'b', status: 'PendingApproval', pinnedThumbprint: b.fingerprint, remoteTenant: 'default' });
    expect(created.inboundSecret).toHaveLength(43);
    // not usable before approval, and not approvable by its author
    expect((await expectStatus(a.api, 'GET', '/api/federation/ping?peer=b', 409)).body.code).toBe('FEDERATION_PEER_NOT_ACTIVE');
    expect((await expectStatus(a.api, 'POST', `/api/approvals/${created.approvalId}/approve`, 403, {})).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    await expectStatus(a.approver, 'POST', `/api/approvals/${created.approvalId}/approve`, 200, {});
    expect((await expectStatus(a.api, 'GET', `/api/federation/peers/${created.peer.id}`, 200)).body.status).toBe('Active');
    // B has not registered A yet: A's certificate is unknown there
    expect((await expectStatus(a.api, 'GET', '/api/federation/ping?peer=b', 200)).body).toMatchObject({ ok: false, factor: 'thumbprint' });
    await activePeer(b, { name: 'a', endpoint: a.endpoint, pinnedThumbprint: a.fingerprint, inboundSecret: created.outboundSecret, outboundSecret: created.inboundSecret });
    secrets = { aToB: created.outboundSecret, bToA: created.inboundSecret };
    expect((await expectStatus(a.api, 'GET', '/api/federation/ping?peer=b', 200)).body).toMatchObject({ peer: 'b', ok: true });
    expect((await expectStatus(b.api, 'GET', '/api/federation/ping?peer=a', 200)).body).toMatchObject({ peer: 'a', ok: true });
    // secrets never come back
    const everything = JSON.stringify([
      (await expectStatus(a.api, 'GET', '/api/federation/peers', 200)).body,
      (await expectStatus(a.api, 'GET', '/api/audit/events?limit=200', 200)).body,
      (await expectStatus(b.api, 'GET', '/api/audit/events?limit=200', 200)).body,
    ]);
    expect(everything).not.toContain(secrets.aToB);
    expect(everything).not.toContain(secrets.bToA);
  });

  it('says which factor failed: a wrong secret, a wrong pin, a peer down, a peer that never answers', async () => {
    const hang = await silentServer();
    cleanups.push(hang.close);
    await activePeer(a, { name: 'wrong-secret', endpoint: b.endpoint, remoteCertificatePem: b.certificatePem });
    await activePeer(a, { name: 'wrong-pin', endpoint: b.endpoint, pinnedThumbprint: 'ab'.repeat(32), outboundSecret: secrets.aToB });
    await activePeer(a, { name: 'down', endpoint: 'https://127.0.0.1:1', remoteCertificatePem: b.certificatePem });
    await activePeer(a, { name: 'hangs', endpoint: hang.endpoint, remoteCertificatePem: b.certificatePem });
    const ping = async (peer: string) => (await expectStatus(a.api, 'GET', `/api/federation/ping?peer=${peer}`, 200)).body;
    expect(await ping('wrong-secret')).toMatchObject({ ok: false, factor: 'secret' });
    expect(await ping('wrong-pin')).toMatchObject({ ok: false, factor: 'thumbprint' });
    expect(await ping('down')).toMatchObject({ ok: false, factor: 'tls', detail: expect.stringContaining('connection refused') });
    const hung = await ping('hangs');
    expect(hung).toMatchObject({ ok: false, factor: 'timeout' });
    expect(hung.durationMs).toBeLessThan(2500);
    // only Admins ping and register peers
    const operator = apiClient(a.server.url, await createToken(a.server, 'Operator'));
    expect((await expectStatus(operator, 'GET', '/api/federation/ping?peer=b', 403)).contentType).toContain('application/problem+json');
    for (const name of ['wrong-secret', 'wrong-pin', 'down', 'hangs']) {
      const id = ((await expectStatus(a.api, 'GET', '/api/federation/peers?limit=50', 200)).body.items as Array<{ id: string; name: string }>).find((p) => p.name === name)!.id;
      await expectStatus(a.api, 'DELETE', `/api/federation/peers/${id}`, 204);
    }
  });

  it('merges the peers\' agents into the fleet view, tenant-scoped, paging across peers with none skipped or repeated', async () => {
    const groupA = await createStaticGroup(a.api);
    const groupB = await createStaticGroup(b.api);
    sims.push(...(await enrollAgents(a.api, a.ws, 2, { groupId: groupA.id, hostPrefix: 'a' })));
    sims.push(...(await enrollAgents(b.api, b.ws, 3, { groupId: groupB.id, hostPrefix: 'b' })));
    await eventually(async () => (await expectStatus(b.api, 'GET', '/api/agents', 200)).body.items.length === 3);
    await eventually(async () => (await expectStatus(a.api, 'GET', '/api/agents', 200)).body.items.length === 2);

    const all = (await expectStatus(a.api, 'GET', '/api/agents?includeFederation=true', 200)).body;
    expect(all.items).toHaveLength(5);
    expect(all.federation.peers).toEqual([expect.objectContaining({ peer: 'b', status: 'ok', items: 3 })]);
    const remote = all.items.filter((i: { peer: string | null }) => i.peer === 'b');
    const bIds = (await expectStatus(b.api, 'GET', '/api/agents', 200)).body.items.map((i: { id: string }) => `peer:b/${i.id}`);
    expect(remote.map((i: { id: string }) => i.id).sort()).toEqual([...bIds].sort());
    // a plain list stays local
    expect((await expectStatus(a.api, 'GET', '/api/agents', 200)).body.items).toHaveLength(2);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const path: string = `/api/agents?includeFederation=true&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = (await expectStatus(a.api, 'GET', path, 200)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen)).toEqual(new Set(all.items.map((i: { id: string }) => i.id)));
    expect((await expectStatus(a.api, 'GET', '/api/agents?includeFederation=true&cursor=nope', 400)).body.code).toMatch(/INVALID_CURSOR/);
  });

  it('serves a paired peer the read surface of its tenant only: agents, an agent, groups, a version by name and content hash', async () => {
    const client = a.server.app.get(PeerClient);
    const { tenantId } = await defaultTenantCaller(a.server.app.get(DataSource), 'Admin', 'federation-test');
    const peerB = await a.server.app.get(PeersService).activeByName(tenantId, 'b');
    const [version] = await publishVersions(b.api, [collectorYaml('shared')], 'edge-shared');
    const hash = (await expectStatus(b.api, 'GET', `/api/configurations/${version!.configurationId}/versions/1`, 200)).body.hash as string;
    const found = await client.call<{ version: number; status: string }>(peerB, `/federation/v1/configurations/edge-shared/versions/${hash}`);
    expect(found.body).toMatchObject({ configurationName: 'edge-shared', version: 1, status: 'Published', contentHash: hash });
    await expect(client.call(peerB, `/federation/v1/configurations/edge-shared/versions/${'0'.repeat(64)}`)).rejects.toMatchObject({ factor: 'http', status: 404, code: 'FEDERATION_VERSION_NOT_FOUND' });
    const groups = await client.call<{ items: Array<{ name: string }> }>(peerB, '/federation/v1/groups');
    const bGroups = (await expectStatus(b.api, 'GET', '/api/groups', 200)).body.items.map((g: { name: string }) => g.name);
    expect(groups.body.items.map((g) => g.name).sort()).toEqual([...bGroups].sort());
    const bAgent = (await expectStatus(b.api, 'GET', '/api/agents', 200)).body.items[0];
    const detail = await client.call<{ id: string; capabilities: unknown }>(peerB, `/federation/v1/agents/${bAgent.id}`);
    expect(detail.body).toMatchObject({ id: bAgent.id, capabilities: expect.any(Object) });
    // an agent of A is not B's
    const aAgent = (await expectStatus(a.api, 'GET', '/api/agents', 200)).body.items[0];
    await expect(client.call(peerB, `/federation/v1/agents/${aAgent.id}`)).rejects.toMatchObject({ status: 404 });
    // a pairing that claims another tenant on B is refused by B
    await activePeer(a, { name: 'other-tenant', endpoint: b.endpoint, remoteCertificatePem: b.certificatePem, remoteTenant: 'other', outboundSecret: secrets.aToB });
    expect((await expectStatus(a.api, 'GET', '/api/federation/ping?peer=other-tenant', 200)).body).toMatchObject({ ok: false, factor: 'http', detail: expect.stringContaining('FEDERATION_TENANT_MISMATCH') });
  });

  it('answers the list when a peer is killed mid-request: the peer is down with the reason, at most its timeout later', async () => {
    const relay = new KillableRelay();
    const through = await relay.start(b.endpoint);
    await activePeer(a, { name: 'via-relay', endpoint: through, remoteCertificatePem: b.certificatePem, outboundSecret: secrets.aToB });
    expect((await expectStatus(a.api, 'GET', '/api/federation/ping?peer=via-relay', 200)).body.ok).toBe(true);
    relay.killOnRequest = true;
    const started = Date.now();
    const list = (await expectStatus(a.api, 'GET', '/api/agents?includeFederation=true', 200)).body;
    expect(Date.now() - started).toBeLessThan(2500);
    expect(relay.killed).toBe(true);
    expect(list.items).toHaveLength(5);
    const statuses = Object.fromEntries(list.federation.peers.map((p: { peer: string }) => [p.peer, p]));
    expect(statuses.b).toMatchObject({ status: 'ok', items: 3 });
    expect(statuses['via-relay']).toMatchObject({ status: 'down', reason: expect.stringMatching(/^tls: /) });
    // a peer whose circuit is open is not asked at all
    const { tenantId } = await defaultTenantCaller(a.server.app.get(DataSource), 'Admin', 'federation-test');
    const breaker = a.server.app.get(PeerClient).breakerOf(await a.server.app.get(PeersService).activeByName(tenantId, 'via-relay'));
    for (let i = 0; i < 100; i++) breaker.failure(Date.now());
    const again = (await expectStatus(a.api, 'GET', '/api/agents?includeFederation=true', 200)).body;
    expect(again.federation.peers.find((p: { peer: string }) => p.peer === 'via-relay')).toMatchObject({ status: 'down', reason: 'circuit open after repeated failures', durationMs: 0 });
  });

  it('counts and traces every peer call; the trace crosses to the peer', async () => {
    const before = await collectMetric('ampora_federation_calls_total', { peer: 'b', direction: 'outbound', outcome: 'ok' });
    await expectStatus(a.api, 'GET', '/api/federation/ping?peer=b', 200);
    expect(await collectMetric('ampora_federation_calls_total', { peer: 'b', direction: 'outbound', outcome: 'ok' })).toBe(before + 1);
    expect(await collectMetric('ampora_federation_calls_total', { peer: 'a', direction: 'inbound', outcome: 'ok' })).toBeGreaterThan(0);
    expect(await collectMetric('ampora_federation_call_duration_seconds', { peer: 'b', direction: 'outbound', tenant: 'default' })).toBeGreaterThan(0);
    expect(await collectMetric('ampora_federation_calls_total', { peer: 'b', direction: 'outbound', outcome: 'thumbprint' })).toBeGreaterThan(0);
    const outbound = await eventually(() => otlp.spans.find((s) => s.name === 'federation.outbound_call' && s.attributes['peer.name'] === 'b' && s.attributes['http.status_code'] === 200), 15000);
    expect(outbound.attributes.endpoint).toBe(b.endpoint);
    const inbound = await eventually(() => otlp.spans.find((s) => s.name === 'federation.inbound_call' && s.parentSpanId === outbound.spanId), 15000);
    expect(inbound.traceId).toBe(outbound.traceId);
  });
});
