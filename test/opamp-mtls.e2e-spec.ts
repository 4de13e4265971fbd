import { createDecipheriv, createPrivateKey, createPublicKey, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { TransactionRunner } from '@ampora/platform';
import { OpampTransportService, uidToString } from '@ampora/opamp';
import { CertificateIssuer, parseCsr, RenewalSweeper } from '@ampora/pki';
import { AgentCapability, captureLogs, eventually, makeTestPki, metricValue, openssl, scrape, scratch, TestAgent, TestPki } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Agent identities end to end with Ampora's own CA: certificates offered over OpAMP (server-made key
 * or the agent's CSR), mTLS reconnects found by fingerprint, refusals, revocation (OCSP, CRL, the live
 * session), renewal, API-signed certificates, and the CA key at rest. Certificates, CRLs and OCSP
 * answers are checked with the openssl CLI.
 */
const serverTls: TestPki = makeTestPki('OpAMP listener');
const foreign: TestPki = makeTestPki('Somebody else');
/** What agents are told to use with their certificate (the test's agents dial the real port). */
const MTLS_URL = 'wss://opamp-mtls.example.test:4322/v1/opamp';
const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;

describe('agent identities with Ampora\'s CA over the mTLS listener', () => {
  const logs = captureLogs('Debug');
  let server: TestServer;
  let wsUrl: string;
  let tlsUrl: string;
  const files = scratch();
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      withWorker: true,
      env: {
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_TLS_CERT_FILE: serverTls.server.certFile,
        AMPORA_OPAMP_TLS_KEY_FILE: serverTls.server.keyFile,
        // what agents need to verify the listener: sent with every certificate offer (decision 0120)
        AMPORA_OPAMP_TLS_CA_FILE: serverTls.caCertFile,
        AMPORA_OPAMP_REQUIRE_MTLS: 'true',
        AMPORA_OPAMP_MTLS_URL: MTLS_URL,
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        LOG_LEVEL: 'Debug',
      },
    });
    const port = await eventually(() => server.app.get(OpampTransportService).tlsPort);
    wsUrl = `ws://127.0.0.1:${server.port}/v1/opamp`;
    tlsUrl = `wss://127.0.0.1:${port}/v1/opamp`;
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  const track = (a: TestAgent) => (agents.push(a), a);
  const authFailed = async () => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' });
  const overTls = (cert: { cert: Buffer | string; key: Buffer | string }, uid?: Buffer) =>
    track(new TestAgent({ url: tlsUrl, capabilities: CAPS, instanceUid: uid, wsOptions: { ca: serverTls.caCert, cert: cert.cert, key: cert.key } }));
  const trustBundle = async () => files.write('bundle.pem', (await server.http.get('/pki/trust-bundle.pem').expect(200)).text);
  const agentByUid = (uid: Buffer) => eventually(async () => (await server.as().get(`/api/agents?text=${uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);

  /** Enrols an agent over plain WebSocket with a bootstrap token; returns the first reply. */
  async function enrol(extra: Record<string, unknown> = {}) {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'pki' }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: wsUrl, token, capabilities: CAPS }));
    await agent.connect();
    agent.hello(extra);
    const reply = await agent.next();
    await agent.close();
    return { agent, reply, token, id: await agentByUid(agent.uid) };
  }

  async function connects(agent: TestAgent): Promise<void> {
    await agent.connect();
    agent.hello();
    const reply = await agent.next();
    expect(reply.error_response).toBeUndefined();
  }

  it('offers a certificate at enrolment; the agent reconnects over mTLS and is the same agent, found by fingerprint', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings?.opamp?.certificate;
    expect(reply.connection_settings?.hash?.length).toBe(32);
    expect(offered?.cert && offered.private_key && offered.ca_cert).toBeTruthy();
    // the agent is told where to present it (AMPORA_OPAMP_MTLS_URL)
    expect(reply.connection_settings?.opamp?.destination_endpoint).toBe(MTLS_URL);
    const leaf = files.write('enrolled.pem', offered!.cert!);
    const bundle = await trustBundle();

    // openssl: chains to the trust bundle, client auth, CRL and OCSP URLs, agent and tenant bound
    expect((await openssl(['verify', '-CAfile', bundle, '-purpose', 'sslclient', leaf], files.dir)).stdout).toContain(': OK');
    const text = (await openssl(['x509', '-in', leaf, '-noout', '-text'], files.dir)).stdout;
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toContain(server.config.pki.crlUrl);
    expect(text).toContain(`OCSP - URI:${server.config.pki.ocspUrl}`);
    expect(text).toContain(`URI:urn:ampora:agent:${id}`);
    expect(text).toMatch(/Not After : .*20\d\d/);
    const days = (Date.parse(new X509Certificate(offered!.cert!).validTo) - Date.now()) / 86_400_000;
    expect(Math.round(days)).toBe(365);

    const withCert = overTls({ cert: offered!.cert!, key: offered!.private_key! }, agent.uid);
    await connects(withCert);
    const detail = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.connection.connected && d.identity.kind === 'certificate' ? d : undefined;
    });
    expect(detail.identity.certificateFingerprint).toBe(createFingerprint(offered!.cert!));
    expect(detail.instanceUid).toBe(uidToString(agent.uid));
    expect((await server.as().get('/api/agents').expect(200)).body.items.filter((a: { id: string }) => a.id === id)).toHaveLength(1);
    await withCert.close();
  });

  it('signs the agent\'s own CSR at enrolment (no private key in the offer) and accepts it over mTLS', async () => {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'csr-agent.key', '-out', 'csr-agent.csr', '-subj', '/CN=my-collector'], files.dir);
    const csr = readFileSync(join(files.dir, 'csr-agent.csr'));
    const { agent, reply, id } = await enrol({ connection_settings_request: { opamp: { certificate_request: { csr } } } });
    const offered = reply.connection_settings?.opamp?.certificate;
    expect(offered?.cert).toBeTruthy();
    expect(offered?.private_key?.length ?? 0).toBe(0);
    const leaf = files.write('csr-agent.pem', offered!.cert!);
    expect((await openssl(['verify', '-CAfile', await trustBundle(), leaf], files.dir)).stdout).toContain(': OK');
    // the certificate carries the agent's public key
    const keyOfCert = (await openssl(['x509', '-in', leaf, '-noout', '-pubkey'], files.dir)).stdout;
    const keyOfCsr = (await openssl(['req', '-in', 'csr-agent.csr', '-noout', '-pubkey'], files.dir)).stdout;
    expect(keyOfCert).toBe(keyOfCsr);

    const withCert = overTls({ cert: offered!.cert!, key: readFileSync(join(files.dir, 'csr-agent.key')) }, agent.uid);
    await connects(withCert);
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);
    await withCert.close();
  });

  it('refuses a CSR that is not one with a BadRequest error response', async () => {
    const { reply } = await enrol({ connection_settings_request: { opamp: { certificate_request: { csr: Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nnope\n-----END CERTIFICATE REQUEST-----\n') } } } });
    expect(reply.error_response?.error_message).toMatch(/certificate request refused/);
    expect(reply.connection_settings).toBeUndefined();
  });

  it('refuses another CA\'s certificate, an expired one and a token-only agent that holds a certificate, counting auth_failed', async () => {
    const { agent, reply, id, token } = await enrol();
    const tenantId = (await server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId as string;
    const before = await authFailed();

    const intruder = foreign.issue('intruder');
    const stranger = overTls(intruder);
    await expect(stranger.connect()).rejects.toMatchObject({ status: 401 });

    // a certificate of Ampora's CA whose validity ended
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'old.key', '-out', 'old.csr', '-subj', '/CN=old'], files.dir);
    const csr = await parseCsr(readFileSync(join(files.dir, 'old.csr'), 'utf8'));
    const expired = await server.app.get(TransactionRunner).run(({ manager }) =>
      server.app.get(CertificateIssuer).issue(manager, {
        tenantId,
        agentId: id,
        publicKey: csr.publicKey,
        keySource: 'csr',
        reason: 'api',
        validity: { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) },
      }),
    );
    const old = overTls({ cert: expired.certificatePem, key: readFileSync(join(files.dir, 'old.key')) }, agent.uid);
    await expect(old.connect()).rejects.toMatchObject({ status: 401 });

    // a certificate the agent never connected with does not bind it to mTLS (decision 0121): its token still admits it
    const offered = reply.connection_settings!.opamp!.certificate!;
    const NO_SETTINGS = CAPS & ~AgentCapability.AcceptsOpAMPConnectionSettings;
    const beforeUse = track(new TestAgent({ url: wsUrl, token, instanceUid: agent.uid, capabilities: NO_SETTINGS }));
    await connects(beforeUse);
    await beforeUse.close();
    // once it connected with it, its bootstrap token alone is refused to an agent that cannot take a new certificate
    const withCert = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(withCert);
    await withCert.close();
    const tokenOnly = track(new TestAgent({ url: wsUrl, token, instanceUid: agent.uid, capabilities: NO_SETTINGS }));
    await tokenOnly.connect();
    tokenOnly.hello();
    expect(await tokenOnly.closed()).toBe(1008);

    expect(await authFailed()).toBe(before + 3);
  });

  it('revokes at once: the live session closes, OCSP answers revoked, the next CRL lists the serial, the agent cannot reconnect', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings!.opamp!.certificate!;
    const leaf = files.write('revoked.pem', offered.cert!);
    const ca = files.write('revoked-ca.pem', offered.ca_cert!);
    const serial = new X509Certificate(offered.cert!).serialNumber.toUpperCase();
    const live = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(live);
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);

    const ocspUrl = `${server.url}/pki/ocsp`;
    const good = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
    expect(good.stderr + good.stdout).toContain(`${leaf}: good`);
    expect(good.stderr).toContain('Response verify OK');
    expect(good.stderr).not.toMatch(/nonce/i);

    const revoked = await server.as().post(`/api/agents/${id}/revoke-cert?reason=keyCompromise`).expect(200);
    expect(revoked.body.revoked).toHaveLength(1);
    expect(revoked.body.session).toBe('delivered');
    expect(await live.closed()).toBe(4001);
    await server.as().post(`/api/agents/${id}/revoke-cert`).expect(409).expect('content-type', /application\/problem\+json/);

    // OCSP over POST (openssl) and GET (RFC 5019), both verified by openssl
    const answer = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
    expect(answer.stderr).toContain('Response verify OK');
    expect(answer.stdout).toContain(`${leaf}: revoked`);
    expect(answer.stdout).toContain('Reason: keyCompromise');
    await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-no_nonce', '-reqout', 'req.der'], files.dir);
    const encoded = encodeURIComponent(readFileSync(join(files.dir, 'req.der')).toString('base64'));
    const viaGet = await fetch(`${server.url}/pki/ocsp/${encoded}`);
    expect(viaGet.headers.get('content-type')).toBe('application/ocsp-response');
    files.write('resp.der', Buffer.from(await viaGet.arrayBuffer()));
    const checked = await openssl(['ocsp', '-respin', 'resp.der', '-issuer', ca, '-cert', leaf, '-CAfile', ca], files.dir);
    expect(checked.stderr).toContain('Response verify OK');
    expect(checked.stdout).toContain(`${leaf}: revoked`);

    // the CRL published right after the revocation lists the serial, and openssl verifies it
    const crl = await eventually(async () => {
      const res = await fetch(`${server.url}/pki/crl.der`);
      if (res.status !== 200) return undefined;
      const path = files.write('crl.der', Buffer.from(await res.arrayBuffer()));
      const out = await openssl(['crl', '-inform', 'DER', '-in', path, '-noout', '-text', '-CAfile', ca], files.dir);
      return out.stdout.includes(serial) ? { out, res } : undefined;
    }, 15000, 200);
    expect(crl.res.headers.get('cache-control')).toContain('max-age=60');
    expect(crl.out.stderr).toContain('verify OK');
    expect(crl.out.stdout).toMatch(/Next Update: /);
    const pem = await server.http.get('/pki/crl.pem').expect(200);
    expect(pem.text).toContain('-----BEGIN X509 CRL-----');

    const before = await authFailed();
    const again = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    // a revoked credential is known but may not connect: 403, with Retry-After (decision 0120)
    await expect(again.connect()).rejects.toMatchObject({ status: 403, retryAfter: expect.any(Number) });
    expect(await authFailed()).toBe(before + 1);
    expect(metricValue(await scrape(server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' })).toBeGreaterThanOrEqual(1);
  });

  it('revokes the certificates of several agents in one request: sessions closed, OCSP revoked, the rest reported, one audit event', async () => {
    const one = await enrol();
    const two = await enrol();
    const untouched = await enrol();
    const lives = [one, two].map(({ agent, reply }) => overTls({ cert: reply.connection_settings!.opamp!.certificate!.cert!, key: reply.connection_settings!.opamp!.certificate!.private_key! }, agent.uid));
    for (const l of lives) await connects(l);
    const bystander = overTls({ cert: untouched.reply.connection_settings!.opamp!.certificate!.cert!, key: untouched.reply.connection_settings!.opamp!.certificate!.private_key! }, untouched.agent.uid);
    await connects(bystander);
    await eventually(async () => {
      for (const { id } of [one, two]) if (!(await server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected) return undefined;
      return true;
    });
    // and an agent that never had a certificate (it does not accept connection settings)
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'no certificate' }).expect(201)).body.token as string;
    const plain = track(new TestAgent({ url: wsUrl, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig }));
    await connects(plain);
    const noCert = { id: await agentByUid(plain.uid) };
    const revokedBefore = metricValue(await scrape(server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' });
    const auditBefore = (await server.as().get('/api/audit/events?entityType=Agent&entityId=bulk&limit=500').expect(200)).body.items.length;

    const ids = [one.id, two.id, one.id, noCert.id];
    const res = await server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: ids, reason: 'cessationOfOperation' }).expect(200);
    expect(res.body.certificates).toBe(2);
    expect(res.body.agents.map((a: { agentId: string }) => a.agentId).sort()).toEqual([one.id, two.id].sort());
    for (const a of res.body.agents) expect(a).toMatchObject({ session: 'delivered', revoked: [{ serialNumber: expect.any(String), revokedAt: expect.any(String) }] });
    expect(res.body.skipped).toEqual([{ agentId: noCert.id, reason: 'no_certificate' }]);
    expect(plain.closeCode).toBeUndefined();
    for (const l of lives) expect(await l.closed()).toBe(4001);
    expect(bystander.closeCode).toBeUndefined();
    expect(metricValue(await scrape(server.url), 'ampora_pki_certs_revoked_total', { kind: 'agent' })).toBe(revokedBefore + 2);
    const audit = (await server.as().get('/api/audit/events?entityType=Agent&entityId=bulk&limit=500').expect(200)).body.items;
    expect(audit).toHaveLength(auditBefore + 1);

    // OCSP answers revoked with the reason for both
    const ocspUrl = `${server.url}/pki/ocsp`;
    for (const [i, { reply }] of [one, two].entries()) {
      const leaf = files.write(`bulk-${i}.pem`, reply.connection_settings!.opamp!.certificate!.cert!);
      const ca = files.write(`bulk-ca-${i}.pem`, reply.connection_settings!.opamp!.certificate!.ca_cert!);
      const answer = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', ocspUrl, '-CAfile', ca], files.dir);
      expect(answer.stdout).toContain(`${leaf}: revoked`);
      expect(answer.stdout).toContain('Reason: cessationOfOperation');
    }
    // again: nothing left to revoke, reported rather than refused
    const again = await server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: [one.id] }).expect(200);
    expect(again.body).toEqual({ certificates: 0, agents: [], skipped: [{ agentId: one.id, reason: 'already_revoked' }] });
    // more than 1,000 agents, or none, is a validation problem
    const tooMany = await server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: Array.from({ length: 1001 }, () => randomUUID()) }).expect(400);
    expect(tooMany.body.code).toBe('VALIDATION_FAILED');
    await server.as().post('/api/agents/bulk/revoke-cert').send({ agentIds: [] }).expect(400);
    await bystander.close();
  });

  it('answers unknown for a serial it never issued and refuses garbage as malformedRequest', async () => {
    const ca = files.write('unknown-ca.pem', (await server.http.get('/pki/trust-bundle.pem').expect(200)).text);
    const unknown = await openssl(['ocsp', '-issuer', ca, '-serial', '0x0123456789', '-url', `${server.url}/pki/ocsp`, '-CAfile', ca], files.dir);
    expect(unknown.stdout).toContain('0x0123456789: unknown');
    const garbage = await fetch(`${server.url}/pki/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not der' });
    expect(garbage.status).toBe(200);
    // OCSPResponse { responseStatus malformedRequest(1) }: SEQUENCE { ENUMERATED 1 }
    expect(Buffer.from(await garbage.arrayBuffer()).toString('hex')).toBe('30030a0101');
  });

  it('renews a certificate close to its end on the next connection, without a new bootstrap', async () => {
    const { agent, id } = await enrol();
    const tenantId = (await server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId as string;
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'soon.key', '-out', 'soon.csr', '-subj', '/CN=soon'], files.dir);
    const csr = await parseCsr(readFileSync(join(files.dir, 'soon.csr'), 'utf8'));
    const ending = await server.app.get(TransactionRunner).run(({ manager }) =>
      server.app.get(CertificateIssuer).issue(manager, { tenantId, agentId: id, publicKey: csr.publicKey, keySource: 'csr', reason: 'api', validity: { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 5 * 86_400_000) } }),
    );
    const old = overTls({ cert: ending.certificatePem, key: readFileSync(join(files.dir, 'soon.key')) }, agent.uid);
    await old.connect();
    old.hello();
    const reply = await old.next();
    const renewed = reply.connection_settings?.opamp?.certificate;
    expect(renewed?.cert && renewed.private_key).toBeTruthy();
    expect(new X509Certificate(renewed!.cert!).serialNumber).not.toBe(new X509Certificate(ending.certificatePem).serialNumber);
    await old.close();

    const fresh = overTls({ cert: renewed!.cert!, key: renewed!.private_key! }, agent.uid);
    await connects(fresh);
    const certs = (await server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items as Array<{ reason: string; serialNumber: string; replacedById: string | null; id: string }>;
    const renewal = certs.find((c) => c.reason === 'renewal')!;
    expect(renewal).toBeDefined();
    expect(certs.find((c) => c.serialNumber === ending.row.serialNumber)?.replacedById).toBe(renewal.id);
    const audit = (await server.as().get(`/api/audit/events?entityType=Certificate&action=Renewed`).expect(200)).body.items;
    expect(audit.some((e: { entityId: string }) => e.entityId === renewal.id)).toBe(true);
    await fresh.close();
  });

  it('pushes a renewed certificate to an agent that stays connected, once', async () => {
    const { agent, reply, id } = await enrol();
    const offered = reply.connection_settings!.opamp!.certificate!;
    const live = overTls({ cert: offered.cert!, key: offered.private_key! }, agent.uid);
    await connects(live);
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.connection.connected);

    // 340 days on, the certificate is inside the 30-day threshold
    const later = new Date(Date.now() + 340 * 86_400_000);
    expect(await server.app.get(RenewalSweeper).sweep(later)).toBeGreaterThanOrEqual(1);
    const pushed = await live.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate));
    expect(pushed.connection_settings!.hash!.length).toBe(32);
    expect(pushed.connection_settings!.opamp!.heartbeat_interval_seconds).toBe('30');
    const renewed = new X509Certificate(pushed.connection_settings!.opamp!.certificate!.cert!);
    expect(renewed.serialNumber).not.toBe(new X509Certificate(offered.cert!).serialNumber);
    expect(renewed.checkIssued(new X509Certificate(offered.ca_cert!))).toBe(true);
    // the renewal is pending (the agent has not reconnected with it): the next sweep does not issue another
    expect(await server.app.get(RenewalSweeper).sweep(later)).toBe(0);
    await live.close();
  });

  it('signs a CSR through the API; the certificate becomes an agent on its first mTLS connection and stays that agent', async () => {
    await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=edge-42'], files.dir);
    const res = await server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'api.csr'), 'utf8') }).expect(201);
    expect(Object.keys(res.body)).toEqual(expect.arrayContaining(['id', 'certificate', 'caCertificate', 'fingerprint', 'notAfter']));
    expect(res.body.fingerprint).toBe(createFingerprint(res.body.certificate));
    const leaf = files.write('api.pem', res.body.certificate);
    expect((await openssl(['verify', '-CAfile', files.write('api-ca.pem', res.body.caCertificate), leaf], files.dir)).stdout).toContain(': OK');

    const first = overTls({ cert: res.body.certificate, key: readFileSync(join(files.dir, 'api.key')) });
    await connects(first);
    const id = await agentByUid(first.uid);
    const detail = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
    expect(detail.identity).toMatchObject({ kind: 'certificate', certificateFingerprint: res.body.fingerprint });
    await first.close();

    const second = overTls({ cert: res.body.certificate, key: readFileSync(join(files.dir, 'api.key')) });
    await connects(second);
    await eventually(async () => (await server.as().get(`/api/agents/${id}`).expect(200)).body.instanceUid === uidToString(second.uid));
    const all = (await server.as().get('/api/agents?limit=500').expect(200)).body.items as Array<{ identity?: unknown; id: string }>;
    expect(all.filter((a) => a.id === id)).toHaveLength(1);
    await second.close();

    // an API-signed certificate revoked before anyone used it is refused
    const unused = await server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'api.csr'), 'utf8') }).expect(201);
    const revokedOne = await server.as().post(`/api/pki/certificates/${unused.body.id}/revoke?reason=keyCompromise`).expect(200);
    expect(revokedOne.body).toMatchObject({ status: 'revoked', revocationReason: 'keyCompromise', agentId: null });
    expect((await server.as().post(`/api/pki/certificates/${unused.body.id}/revoke`).expect(409)).body.code).toBe('CERTIFICATE_ALREADY_REVOKED');
    await expect(overTls({ cert: unused.body.certificate, key: readFileSync(join(files.dir, 'api.key')) }).connect()).rejects.toMatchObject({ status: 403 });
    expect((await server.as().get(`/api/pki/certificates/${unused.body.id}`).expect(200)).body.status).toBe('revoked');

    const bad = await server.as().post('/api/pki/agent-certificates').send({ csr: 'hello' }).expect(422);
    expect(bad.body.code).toBe('INVALID_CSR');
    await server.as().post('/api/pki/agent-certificates').send({}).expect(400);
  });

  it('makes one agent of an API-signed certificate even when two first connections race', async () => {
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'race.key', '-out', 'race.csr', '-subj', '/CN=race'], files.dir);
    const res = await server.as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'race.csr'), 'utf8') }).expect(201);
    const key = readFileSync(join(files.dir, 'race.key'));
    const racers = [overTls({ cert: res.body.certificate, key }), overTls({ cert: res.body.certificate, key })];
    await Promise.all(racers.map((r) => r.connect()));
    for (const r of racers) r.hello();
    // both become the same agent: each racer is answered, or (the older one, when the newer attached
    // before its answer left) closed as superseded by the newer connection
    const outcomes = await Promise.all(
      racers.map((r) => Promise.race([r.next().then((m) => ({ reply: m })), r.closed().then((code) => ({ closed: code }))])),
    );
    const replies = outcomes.flatMap((o) => ('reply' in o ? [o.reply] : []));
    expect(replies.length).toBeGreaterThanOrEqual(1);
    expect(replies.map((r) => r.error_response)).toEqual(replies.map(() => undefined));
    expect(outcomes.filter((o) => 'closed' in o)).toEqual(outcomes.filter((o) => 'closed' in o).map(() => ({ closed: 4000 })));
    const enrolled = (await server.as().get('/api/audit/events?entityType=Agent&action=Enrolled&limit=500').expect(200)).body.items as Array<{ additional: { fingerprint?: string } }>;
    expect(enrolled.filter((e) => e.additional.fingerprint === res.body.fingerprint)).toHaveLength(1);
    const certificate = (await server.as().get(`/api/pki/certificates/${res.body.id}`).expect(200)).body;
    expect(certificate.agentId).toEqual(expect.any(String));
    for (const r of racers) await r.close();
  });

  it('never stores or logs the CA private key in clear, nor an agent\'s server-made key', async () => {
    const { reply } = await enrol();
    const agentKey = reply.connection_settings!.opamp!.certificate!.private_key!.toString();
    const agentKeyBody = agentKey.replace(/-----[^-]+-----|\s/g, '');

    const db = new Client({ connectionString: server.db.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT * FROM pki_signing_keys');
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        const sealed: Buffer = row.wrapped_private_key;
        // opened here with the master key and the row's id as authenticated data (AES-256-GCM)
        const pkcs8 = openSealed(sealed, Buffer.from(server.env.AMPORA_MASTER_KEY!, 'base64'), `pki_signing_keys:${row.id}`);
        const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ type: 'spki', format: 'der' });
        expect(spki.equals(new X509Certificate(row.certificate).publicKey.export({ type: 'spki', format: 'der' }))).toBe(true);
        const everyColumn = JSON.stringify(Object.values(row).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)));
        expect(everyColumn).not.toContain('PRIVATE KEY');
        expect(sealed.includes(pkcs8)).toBe(false);
        // the private scalar (or exponent) itself is in no column
        const secret = Buffer.from(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!, 'base64url');
        for (const v of Object.values(row)) if (Buffer.isBuffer(v)) expect(v.includes(secret)).toBe(false);
        const text = logs.lines.join('\n');
        expect(text).not.toContain(pkcs8.toString('base64').slice(0, 40));
        expect(text).not.toContain(pkcs8.toString('hex').slice(0, 40));
      }
      const certRows = await db.query('SELECT certificate FROM pki_certificates');
      for (const r of certRows.rows) expect((r.certificate as Buffer).toString('latin1')).not.toContain('PRIVATE KEY');
    } finally {
      await db.end();
    }
    const text = logs.lines.join('\n');
    expect(text).toContain('Generated Ampora\'s CA key');
    expect(text).not.toMatch(/PRIVATE KEY/);
    expect(text).not.toContain(agentKeyBody.slice(0, 40));
    const audit = JSON.stringify((await server.as().get('/api/audit/events?limit=500').expect(200)).body);
    expect(audit).not.toContain(agentKeyBody.slice(0, 40));
    expect(audit).not.toMatch(/PRIVATE KEY/);
  });

  it('logged no errors: every mutating route wrote exactly one audit event', () => {
    expect(logs.records.filter((r) => r.level === 'Error' || r.level === 'Critical').map((r) => r.message)).toEqual([]);
  });
});

function createFingerprint(pem: Buffer | string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Independent reading of the sealed format: version(1) | key id(8) | iv(12) | tag(16) | ciphertext. */
function openSealed(sealed: Buffer, key: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(9, 21));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(21, 37));
  return Buffer.concat([decipher.update(sealed.subarray(37)), decipher.final()]);
}
