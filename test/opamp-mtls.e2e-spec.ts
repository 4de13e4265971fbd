import { Module } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { AGENT_CERTIFICATES, AgentCertificates, CLIENT_CERTIFICATE_VERIFIER, ClientCertificate, ClientCertificateVerifier, OpampTransportService, uidToString } from '@ampora/opamp';
import { eventually, makeTestPki, metricValue, scrape, TestAgent, TestPki } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

const pki: TestPki = makeTestPki('Agents CA');
const foreign: TestPki = makeTestPki('Somebody else');

/** Stands in for the PKI domain behind the OpAMP seam: trusts the test CA only. */
class TestCaVerifier implements ClientCertificateVerifier {
  async verify(certificate: ClientCertificate) {
    const leaf = new X509Certificate(certificate.der);
    const ca = new X509Certificate(pki.caCert);
    if (!leaf.verify(ca.publicKey)) return { ok: false as const, reason: 'not issued by the agents CA' };
    const now = Date.now();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now) return { ok: false as const, reason: 'outside its validity' };
    return { ok: true as const };
  }
}

/** Stands in for the PKI's certificate ↔ agent binding: what the test "issued". */
const issued = new Map<string, { agentId: string; tenantId: string }>();
class TestCertificates implements AgentCertificates {
  async agentFor(fingerprint: string) {
    return issued.get(fingerprint);
  }
  async holdsCertificate(agentId: string) {
    return [...issued.values()].some((a) => a.agentId === agentId);
  }
}

@Module({
  providers: [
    { provide: CLIENT_CERTIFICATE_VERIFIER, useClass: TestCaVerifier },
    { provide: AGENT_CERTIFICATES, useClass: TestCertificates },
  ],
})
class TestCaModule {}

describe('OpAMP over the mTLS listener', () => {
  let server: TestServer;
  let tlsUrl: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      modules: [TestCaModule],
      env: {
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_TLS_CERT_FILE: pki.server.certFile,
        AMPORA_OPAMP_TLS_KEY_FILE: pki.server.keyFile,
        AMPORA_OPAMP_REQUIRE_MTLS: 'true',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
      },
    });
    const port = await eventually(() => server.app.get(OpampTransportService).tlsPort);
    tlsUrl = `wss://127.0.0.1:${port}/v1/opamp`;
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  const tls = (cert?: { cert: Buffer; key: Buffer }) => ({ wsOptions: { ca: pki.caCert, ...(cert ? { cert: cert.cert, key: cert.key } : {}) } });
  const authFailed = async () => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' });

  it('identifies an agent with a certificate by its fingerprint, never by instance_uid; token-only is then refused', async () => {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'tls' }).expect(201)).body.token as string;
    const enrolled = new TestAgent({ url: tlsUrl, token, ...tls() });
    agents.push(enrolled);
    await enrolled.connect();
    enrolled.hello();
    expect((await enrolled.next()).error_response).toBeUndefined();
    const id = await eventually(async () => (await server.as().get(`/api/agents?text=${enrolled.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string);
    await enrolled.close();

    // the PKI domain issues certificates; here the seams are exercised with a test CA
    const leaf = pki.issue(`agent-${id}`);
    issued.set(leaf.fingerprint, { agentId: id, tenantId: (await server.as().get(`/api/agents/${id}`).expect(200)).body.tenantId });

    // same certificate, a different instance uid: still the same agent
    const withCert = new TestAgent({ url: tlsUrl, ...tls(leaf) });
    agents.push(withCert);
    await withCert.connect();
    withCert.hello();
    expect((await withCert.next()).error_response).toBeUndefined();
    const detail = await eventually(async () => {
      const d = (await server.as().get(`/api/agents/${id}`).expect(200)).body;
      return d.instanceUid === uidToString(withCert.uid) && d.connection.connected ? d : undefined;
    });
    expect(detail.status).toBe('connected');
    expect((await server.as().get('/api/agents').expect(200)).body.items.filter((a: { id: string }) => a.id === id)).toHaveLength(1);

    // with mTLS required, the bootstrap token alone no longer gets this agent in
    const before = await authFailed();
    const tokenOnly = new TestAgent({ url: tlsUrl, token, instanceUid: withCert.uid, ...tls() });
    agents.push(tokenOnly);
    await tokenOnly.connect();
    tokenOnly.hello();
    expect(await tokenOnly.closed()).toBe(1008);
    expect(await authFailed()).toBe(before + 1);
  });

  it('refuses a certificate from another CA and one that belongs to no agent', async () => {
    const before = await authFailed();
    const stranger = new TestAgent({ url: tlsUrl, ...tls(foreign.issue('intruder')) });
    await expect(stranger.connect()).rejects.toMatchObject({ status: 401 });
    const orphan = new TestAgent({ url: tlsUrl, ...tls(pki.issue('nobody')) });
    await expect(orphan.connect()).rejects.toMatchObject({ status: 401 });
    expect(await authFailed()).toBe(before + 2);
  });
});
