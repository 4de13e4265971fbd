import { X509Certificate } from 'node:crypto';
import { AgentCapability, eventually, openssl, scratch, TestAgent } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * The PKI in embedded storage (PGlite in-process, BullMQ on it, worker processors in the server):
 * first-start key generation, a certificate at enrolment, revocation, OCSP and the CRL job.
 */
describe('the PKI on embedded storage', () => {
  let server: TestServer;
  const files = scratch();

  beforeAll(async () => {
    // the TLS listener (its certificate issued by Ampora's CA) is where certificate offers send agents: without one, none is offered (decision 0121)
    server = await startTestServer({ embedded: {}, env: { REDIS_URL: 'redis://127.0.0.1:1', AMPORA_OPAMP_TLS_PORT: '0' } });
  }, 120_000);
  afterAll(() => server?.close());

  it('issues, revokes, answers OCSP and publishes CRLs with nothing but the embedded database', async () => {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'embedded-pki' }).expect(201)).body.token as string;
    const agent = new TestAgent({ url: `ws://127.0.0.1:${server.port}/v1/opamp`, token, capabilities: AgentCapability.ReportsStatus | AgentCapability.AcceptsOpAMPConnectionSettings });
    await agent.connect();
    agent.hello();
    const offered = (await agent.next()).connection_settings!.opamp!.certificate!;
    await agent.close();
    const ca = files.write('ca.pem', offered.ca_cert!);
    const leaf = files.write('leaf.pem', offered.cert!);
    expect((await openssl(['verify', '-CAfile', ca, leaf], files.dir)).stdout).toContain(': OK');

    const id = await eventually(async () => (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    await server.as().post(`/api/agents/${id}/revoke-cert`).expect(200);
    const ocsp = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', `${server.url}/pki/ocsp`, '-CAfile', ca], files.dir);
    expect(ocsp.stdout).toContain(`${leaf}: revoked`);

    const serial = new X509Certificate(offered.cert!).serialNumber.toUpperCase();
    const crl = await eventually(async () => {
      const res = await fetch(`${server.url}/pki/crl.der`);
      if (res.status !== 200) return undefined;
      const out = await openssl(['crl', '-inform', 'DER', '-in', files.write('crl.der', Buffer.from(await res.arrayBuffer())), '-noout', '-text', '-CAfile', ca], files.dir);
      return out.stdout.includes(serial) ? out : undefined;
    }, 20000, 250);
    expect(crl.stderr).toContain('verify OK');
  });
});
