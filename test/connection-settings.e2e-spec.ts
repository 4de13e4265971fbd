import { X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { Client } from 'pg';
import { OpampTransportService } from '@ampora/opamp';
import { LiveBus } from '@ampora/platform';
import { PkiEvent, PkiEvents } from '@ampora/pki';
import { AgentCapability, eventually, metricValue, scrape, TestAgent } from '@ampora/testing';
import { CAPS, createFingerprint, MTLS_URL, mtlsSuite, serverTls } from './support/mtls-kit';
import { createToken } from './support/test-server';
import { exporterReport, otlpMetricsProtobuf, ownMetricsOffer } from './support/own-telemetry-kit';

type Reply = Awaited<ReturnType<TestAgent['next']>>;

/**
 * Connection settings an operator offers (issue 20 item 5), end to end over the real OpAMP
 * listeners with Ampora's CA, PostgreSQL and Redis: "rotate now" of an agent's certificate (pushed to
 * its live session, or offered on its next connection), an endpoint change for every agent of a
 * group with one hash, and the TLS listener's OTLP intake of agents' own metrics.
 */
describe('connection settings: certificate rotation, group endpoint changes, the TLS listener\'s own-metrics intake', () => {
  const kit = mtlsSuite();
  const { enrol, overTls, connects, track } = kit;

  /** An enrolled agent connected over mTLS with its offered certificate. */
  async function connectedWithCertificate(caps = CAPS) {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings!.opamp!.certificate!;
    const live = track(new TestAgent({ url: kit.tlsUrl, capabilities: caps, instanceUid: agent.uid, wsOptions: { ca: serverTls.caCert, cert: offered.cert!, key: offered.private_key! } }));
    await connects(live);
    await eventually(async () => (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);
    return { id, uid: agent.uid, offered, live };
  }
  const serialOf = (pem: Buffer | string) => new X509Certificate(pem).serialNumber.toLowerCase();
  const certificates = async (id: string) =>
    (await kit.server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items as Array<{ id: string; serialNumber: string; replacedById: string | null; reason: string }>;

  it('rotates a connected agent\'s certificate now: a new certificate and key pushed with the offer\'s hash, usable at once', async () => {
    const { id, uid, offered, live } = await connectedWithCertificate();
    const res = await kit.server.as().post(`/api/agents/${id}/rotate-cert`).expect(200);
    expect(res.body).toMatchObject({ agentId: id, delivery: 'delivered', serialNumber: expect.any(String), hash: expect.stringMatching(/^[0-9a-f]{64}$/), newSerialNumber: expect.any(String) });
    expect(res.body.serialNumber.toLowerCase()).toBe(serialOf(offered.cert!));

    const pushed: Reply = await live.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate));
    const settings = pushed.connection_settings!;
    expect(settings.hash!.toString('hex')).toBe(res.body.hash);
    // sent back to the listener it uses, with the trust to verify it
    expect(settings.opamp!.destination_endpoint).toBe(MTLS_URL);
    const rotated = settings.opamp!.certificate!;
    expect(rotated.private_key?.length).toBeGreaterThan(0);
    expect(serialOf(rotated.cert!)).toBe(res.body.newSerialNumber.toLowerCase());
    expect(serialOf(rotated.cert!)).not.toBe(serialOf(offered.cert!));
    // 365 days from now, not from the old certificate's start
    expect(Math.round((Date.parse(new X509Certificate(rotated.cert!).validTo) - Date.now()) / 86_400_000)).toBe(365);
    await live.close();

    // the agent connects with the new certificate; the old one points to it
    const fresh = overTls({ cert: rotated.cert!, key: rotated.private_key! }, uid);
    await fresh.connect();
    fresh.hello();
    const first = await fresh.next();
    expect(first.error_response).toBeUndefined();
    // the new certificate is not marked: no further certificate on its connection
    expect(first.connection_settings?.opamp?.certificate).toBeUndefined();
    await fresh.close();
    const certs = await certificates(id);
    const renewal = certs.find((c) => c.id === res.body.newCertificateId)!;
    expect(renewal).toMatchObject({ reason: 'renewal', replacedById: null });
    expect(certs.find((c) => c.id === res.body.certificateId)?.replacedById).toBe(renewal.id);
    const requested = (await kit.server.as().get(`/api/audit/events?entityType=Certificate&entityId=${res.body.certificateId}&action=RotationRequested`).expect(200)).body.items;
    expect(requested).toHaveLength(1);
    expect(requested[0].additional).toMatchObject({ agentId: id });
    const renewed = (await kit.server.as().get(`/api/audit/events?entityType=Certificate&entityId=${renewal.id}&action=Renewed`).expect(200)).body.items;
    expect(renewed[0].additional).toMatchObject({ rotationRequestedAt: expect.any(String) });
    expect(JSON.stringify([requested, renewed, res.body])).not.toMatch(/PRIVATE KEY/);
    expect(metricValue(await scrape(kit.server.url), 'ampora_connection_settings_offers_total', { tenant: 'default', kind: 'rotation', delivery: 'delivered' })).toBeGreaterThanOrEqual(1);
  });

  it('offers the new certificate on the next connection of an agent that is not connected', async () => {
    const { id, uid, offered, live } = await connectedWithCertificate();
    await live.close();
    await eventually(async () => !(await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);
    const res = await kit.server.as().post(`/api/agents/${id}/rotate-cert`).expect(200);
    expect(res.body).toMatchObject({ agentId: id, delivery: 'requested' });
    expect(res.body.hash).toBeUndefined();

    const back = overTls({ cert: offered.cert!, key: offered.private_key! }, uid);
    await back.connect();
    back.hello();
    const reply = await back.next();
    const rotated = reply.connection_settings?.opamp?.certificate;
    expect(rotated?.cert && rotated.private_key).toBeTruthy();
    expect(serialOf(rotated!.cert!)).not.toBe(serialOf(offered.cert!));
    await back.close();
    const certs = await certificates(id);
    expect(certs.find((c) => c.id === res.body.certificateId)?.replacedById).toBe(certs.find((c) => serialOf(rotated!.cert!) === c.serialNumber.toLowerCase())?.id);
  });

  it('pushes a rotation asked for on another instance from the instance that holds the session (the live bus event)', async () => {
    const { id, offered, live } = await connectedWithCertificate();
    const tenantId = (await kit.server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId as string;
    // what the instance that took the request did: marked the certificate in use, then told every instance
    const pg = new Client({ connectionString: kit.server.db.url });
    await pg.connect();
    let certificateId: string;
    try {
      certificateId = (await pg.query('UPDATE pki_certificates SET rotation_requested_at = now() WHERE fingerprint = $1 RETURNING id', [createFingerprint(offered.cert!)])).rows[0].id;
    } finally {
      await pg.end();
    }
    kit.server.app.get(LiveBus).publish<PkiEvent>({ type: PkiEvents.CertificateRotationRequested, tenantId, entityId: id, payload: { agentId: id, certificateId } });
    const pushed = await live.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate));
    expect(serialOf(pushed.connection_settings!.opamp!.certificate!.cert!)).not.toBe(serialOf(offered.cert!));
    expect((await certificates(id)).find((c) => c.id === certificateId)?.replacedById).toEqual(expect.any(String));
    await live.close();
  });

  it('refuses to rotate without a certificate in use, for an unknown agent, or an agent that cannot take connection settings', async () => {
    // enrolled on a token; it never connected with the certificate it was offered
    const { id: tokenOnly } = await enrol();
    expect((await kit.server.as().post(`/api/agents/${tokenOnly}/rotate-cert`).expect(409)).body).toMatchObject({ code: 'CERTIFICATE_NOT_IN_USE' });
    expect((await kit.server.as().post('/api/agents/3f1c1a52-5bd7-4c43-9a47-1f0a0c6f4c11/rotate-cert').expect(404)).body).toMatchObject({ code: 'AGENT_CERTIFICATE_NOT_FOUND' });
    const { id: fixed, live } = await connectedWithCertificate(CAPS & ~AgentCapability.AcceptsOpAMPConnectionSettings);
    expect((await kit.server.as().post(`/api/agents/${fixed}/rotate-cert`).expect(409)).body).toMatchObject({ code: 'AGENT_LACKS_CAPABILITY' });
    expect((await kit.server.as().get(`/api/audit/events?entityType=Certificate&action=RotationRequested&limit=100`).expect(200)).body.items.some((e: { additional: { agentId: string } }) => e.additional.agentId === fixed)).toBe(false);
    await live.close();
    // a viewer may not rotate
    expect((await kit.server.as(await createToken(kit.server, 'Viewer')).post(`/api/agents/${fixed}/rotate-cert`).expect(403)).body.code).toBeDefined();
  });

  it('offers every agent of a group a new endpoint with one hash; agents without the capability are skipped, absent ones reported', async () => {
    const group = (await kit.server.as().post('/api/groups').send({ name: `moving-${Date.now()}`, kind: 'Static' }).expect(201)).body;
    const join = async (caps: number) => {
      const token = (await kit.server.as().post('/api/bootstrap-tokens').send({ label: 'mover', groupId: group.id }).expect(201)).body.token as string;
      const a = track(new TestAgent({ url: kit.wsUrl, token, capabilities: caps }));
      await connects(a);
      return { agent: a, id: await kit.agentByUid(a.uid) };
    };
    const movable = await join(CAPS);
    const away = await join(CAPS);
    const fixed = await join(CAPS & ~AgentCapability.AcceptsOpAMPConnectionSettings);
    await eventually(async () => {
      const items = (await kit.server.as().get(`/api/agents?groupId=${group.id}&limit=10`).expect(200)).body.items as Array<{ id: string }>;
      return items.length === 3;
    });
    await away.agent.close();
    await eventually(async () => !(await kit.server.as().get(`/api/agents/${away.id}`).expect(200)).body.connection.connected);

    const endpoint = 'wss://opamp-eu.example.test/v1/opamp';
    const res = await kit.server.as().post(`/api/groups/${group.id}/opamp-endpoint`).send({ endpoint, headers: { 'X-Region': 'eu-secret-value' } }).expect(200);
    expect(res.body).toMatchObject({ groupId: group.id, endpoint, agents: 3, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect([...res.body.offered].sort((a: { agentId: string }, b: { agentId: string }) => a.agentId.localeCompare(b.agentId))).toEqual(
      [
        { agentId: movable.id, delivery: 'delivered' },
        { agentId: away.id, delivery: 'no_session' },
      ].sort((a, b) => a.agentId.localeCompare(b.agentId)),
    );
    expect(res.body.skipped).toEqual([{ agentId: fixed.id, reason: 'lacks_capability' }]);

    const m = await movable.agent.nextMatching((r) => r.connection_settings?.opamp?.destination_endpoint === endpoint, 5000);
    expect(m.connection_settings!.hash!.toString('hex')).toBe(res.body.hash);
    expect(m.connection_settings!.opamp!.headers!.headers).toEqual([{ key: 'X-Region', value: 'eu-secret-value' }]);
    // the same offer to one agent has the same hash
    const single = await kit.server.as().post(`/api/agents/${movable.id}/opamp-endpoint`).send({ endpoint, headers: { 'X-Region': 'eu-secret-value' } }).expect(200);
    expect(single.body.hash).toBe(res.body.hash);
    // the agent that cannot take it got nothing
    expect(fixed.agent.connectionSettings.some((c) => c.opamp?.destination_endpoint === endpoint)).toBe(false);

    const audit = (await kit.server.as().get(`/api/audit/events?entityType=Group&entityId=${group.id}&action=EndpointOffered`).expect(200)).body.items;
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ after: { endpoint, headers: ['X-Region'], hash: res.body.hash }, additional: { agents: 3, deliveries: { delivered: 1, no_session: 1 }, skipped: 1 } });
    expect(JSON.stringify(audit)).not.toContain('eu-secret-value');
    expect(kit.logs.lines.join('\n')).not.toContain('eu-secret-value');
    const metrics = await scrape(kit.server.url);
    expect(metricValue(metrics, 'ampora_connection_settings_offers_total', { tenant: 'default', kind: 'endpoint', delivery: 'skipped' })).toBe(1);
    expect(metricValue(metrics, 'ampora_connection_settings_offers_total', { tenant: 'default', kind: 'endpoint', delivery: 'no_session' })).toBe(1);

    expect((await kit.server.as().post('/api/groups/3f1c1a52-5bd7-4c43-9a47-1f0a0c6f4c11/opamp-endpoint').send({ endpoint }).expect(404)).body.code).toBe('GROUP_NOT_FOUND');
    expect((await kit.server.as().post(`/api/groups/${group.id}/opamp-endpoint`).send({ endpoint: 'ftp://elsewhere' }).expect(400)).body.code).toBeDefined();
  });

  it('takes agents\' own metrics on the TLS listener (POST /v1/metrics) with the agent\'s intake credential, client certificate or not', async () => {
    const token = (await kit.server.as().post('/api/bootstrap-tokens').send({ label: 'own metrics over tls' }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: kit.wsUrl, token, capabilities: CAPS | AgentCapability.ReportsOwnMetrics }));
    await connects(agent);
    const id = await kit.agentByUid(agent.uid);
    const offer = ownMetricsOffer(agent);
    expect(offer?.authorization).toMatch(/^Bearer ampt1\./);
    const tlsPort = kit.server.app.get(OpampTransportService).tlsPort!;
    const post = (body: Buffer, headers: Record<string, string>, method = 'POST', clientCert?: { cert: Buffer | string; key: Buffer | string }) =>
      new Promise<{ status: number; type?: string; body: Buffer }>((resolve, reject) => {
        const req = httpsRequest(
          { host: '127.0.0.1', port: tlsPort, path: '/v1/metrics', method, headers: { 'content-length': String(body.length), ...headers }, ca: serverTls.caCert, ...(clientCert ?? {}) },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: Buffer.concat(chunks) }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const payload = otlpMetricsProtobuf(exporterReport('otlphttp/tls', 70, 30));
    const ok = await post(payload, { 'content-type': 'application/x-protobuf', authorization: offer!.authorization });
    expect(ok).toMatchObject({ status: 200, type: 'application/x-protobuf' });
    expect(ok.body.length).toBe(0); // an empty ExportMetricsServiceResponse
    // a client certificate is not the intake credential
    const { offered } = await connectedWithCertificate();
    expect((await post(payload, { 'content-type': 'application/x-protobuf' }, 'POST', { cert: offered.cert!, key: offered.private_key! })).status).toBe(401);
    expect((await post(payload, { 'content-type': 'application/x-protobuf', authorization: 'Bearer ampt1.nope' })).status).toBe(401);
    expect((await post(payload, { 'content-type': 'text/plain', authorization: offer!.authorization })).status).toBe(415);
    expect((await post(Buffer.alloc(0), { authorization: offer!.authorization }, 'GET')).status).toBe(405);
    const json = await post(Buffer.from(JSON.stringify(exporterReport('otlphttp/tls', 30, 0))), { 'content-type': 'application/json', authorization: offer!.authorization });
    expect({ status: json.status, body: json.body.toString() }).toEqual({ status: 200, body: '{}' });

    // what came in over TLS is the agent's telemetry (written at the next flush)
    const view = await eventually(async () => {
      const body = (await kit.server.as().get(`/api/agents/${id}/telemetry`).expect(200)).body;
      return body.components.find((c: { component: string }) => c.component === 'otlphttp/tls')?.sent === 100 ? body : undefined;
    }, 30_000);
    expect(view.signals.find((s: { signal: string }) => s.signal === 'traces')).toMatchObject({ sent: 100, sendFailed: 30, exportFailureRatio: 0.2308 }); // 30 / 130
  });
});
