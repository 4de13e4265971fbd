import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Role, TenantService, TokenService } from '@ampora/governance';
import { OpampTransportService } from '@ampora/opamp';
import { SigningKeysService } from '@ampora/pki';
import { AgentCapability, eventually, makeTestPki, openssl, scratch, TestAgent, TestPki } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

/**
 * CA key rotation: Draft → Active (the old key Trusted) → Retired, with old leaves accepted while
 * their key is trusted, renewals and enrolments signed by the new key, an RSA-3072 key (checked with
 * openssl), the maintenance job, and the API's refusals.
 */
const serverTls: TestPki = makeTestPki('OpAMP listener');
const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;

interface Key {
  id: string;
  state: string;
  keyId: string;
  certificate: string;
  trustedUntil: string | null;
  algorithm: string;
}

describe('CA signing key rotation', () => {
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
        AMPORA_PKI_TRUSTED_WINDOW_DAYS: '30',
      },
    });
    wsUrl = `ws://127.0.0.1:${server.port}/v1/opamp`;
    tlsUrl = `wss://127.0.0.1:${await eventually(() => server.app.get(OpampTransportService).tlsPort)}/v1/opamp`;
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });

  const track = (a: TestAgent) => (agents.push(a), a);
  const keys = async () => (await server.as().get('/api/pki/signing-keys').expect(200)).body.items as Key[];
  const overTls = (cert: Buffer | string, key: Buffer | string, uid?: Buffer) => track(new TestAgent({ url: tlsUrl, capabilities: CAPS, instanceUid: uid, wsOptions: { ca: serverTls.caCert, cert, key } }));
  /** The authority key identifier of a certificate, read by openssl (hex, lower case). */
  const authorityKeyId = async (pem: Buffer | string) => {
    const out = await openssl(['x509', '-noout', '-ext', 'authorityKeyIdentifier', '-in', files.write(`akid-${new X509Certificate(pem).serialNumber}.pem`, pem)], files.dir);
    return /([0-9A-F]{2}(?::[0-9A-F]{2}){19})/i.exec(out.stdout)![1]!.replace(/:/g, '').toLowerCase();
  };

  async function enrol() {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'rotation' }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: wsUrl, token, capabilities: CAPS }));
    await agent.connect();
    agent.hello();
    const certificate = (await agent.next()).connection_settings!.opamp!.certificate!;
    await agent.close();
    return { agent, cert: certificate.cert!, key: certificate.private_key! };
  }

  /** Activation is four-eyes (decision 0301): the default admin asks, a second Admin approves. */
  async function activate(id: string): Promise<Key> {
    const asked = (await server.as().post(`/api/pki/signing-keys/${id}/activate`).expect(202)).body as { signingKey: Key; approvalId: string };
    expect(asked.signingKey.state).toBe('Draft');
    const reviewer = await createToken(server, 'Admin', `ca-reviewer-${id.slice(0, 8)}`);
    await server.as(reviewer).post(`/api/approvals/${asked.approvalId}/approve`).send({}).expect(200);
    return (await server.as().get(`/api/pki/signing-keys/${id}`).expect(200)).body as Key;
  }

  async function connects(agent: TestAgent) {
    await agent.connect();
    agent.hello();
    expect((await agent.next()).error_response).toBeUndefined();
  }

  it('keeps old leaves working while their key is Trusted, signs renewals with the new key, refuses them once retired', async () => {
    const [first] = await keys();
    expect(first).toMatchObject({ state: 'Active', algorithm: 'ECDSA-P256' });
    const old = await enrol();
    expect(await authorityKeyId(old.cert)).toBe(first!.keyId);

    const created = (await server.as().post('/api/pki/signing-keys').send({ algorithm: 'ECDSA-P256' }).expect(201)).body as Key;
    expect(created.state).toBe('Draft');
    // a Draft key signs nothing and is not in the trust bundle
    expect((await server.http.get('/pki/trust-bundle.pem').expect(200)).text).not.toContain(created.certificate.split('\n')[1]);

    // asking is not activating: the key stays Draft, and its author cannot approve it
    const asked = (await server.as().post(`/api/pki/signing-keys/${created.id}/activate`).expect(202)).body as { signingKey: Key; approvalId: string };
    expect((await server.as().post(`/api/approvals/${asked.approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await keys()).find((k) => k.id === created.id)!.state).toBe('Draft');
    expect((await keys()).find((k) => k.id === first!.id)!.state).toBe('Active');
    const activated = await activate(created.id);
    expect(activated.state).toBe('Active');
    const previous = (await keys()).find((k) => k.id === first!.id)!;
    expect(previous.state).toBe('Trusted');
    const window = Date.parse(previous.trustedUntil!) - Date.now();
    expect(Math.round(window / 86_400_000)).toBe(30);
    const bundle = await eventually(async () => {
      const text = (await server.http.get('/pki/trust-bundle.pem').expect(200)).text;
      return text.includes(created.certificate.split('\n')[1]!) ? text : undefined;
    }, 15000, 250);
    expect(bundle.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);

    // the old leaf still connects; its agent renews with a CSR over that connection: signed by the new key
    const agent = overTls(old.cert, old.key, old.agent.uid);
    await connects(agent);
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'renew.key', '-out', 'renew.csr', '-subj', '/CN=renew'], files.dir);
    agent.send({ connection_settings_request: { opamp: { certificate_request: { csr: readFileSync(join(files.dir, 'renew.csr')) } } } });
    const renewed = (await agent.nextMatching((m) => Boolean(m.connection_settings?.opamp?.certificate))).connection_settings!.opamp!.certificate!;
    expect(await authorityKeyId(renewed.cert!)).toBe(created.keyId);
    const newCa = files.write('new-ca.pem', created.certificate);
    expect((await openssl(['verify', '-CAfile', newCa, files.write('renewed.pem', renewed.cert!)], files.dir)).stdout).toContain(': OK');
    await agent.close();

    // a new enrolment is signed by the new key too
    expect(await authorityKeyId((await enrol()).cert)).toBe(created.keyId);

    // retiring the old key: live sessions on its leaves are closed, its leaves are refused, the bundle loses it
    const liveOld = overTls(old.cert, old.key, old.agent.uid);
    await connects(liveOld);
    const retired = (await server.as().post(`/api/pki/signing-keys/${first!.id}/retire`).expect(200)).body as Key;
    expect(retired.state).toBe('Retired');
    expect(await liveOld.closed()).toBe(4001);
    expect((await server.http.get('/pki/trust-bundle.pem').expect(200)).text.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    await expect(overTls(old.cert, old.key, old.agent.uid).connect()).rejects.toMatchObject({ status: 401 });
    await connects(overTls(renewed.cert!, readFileSync(join(files.dir, 'renew.key')), old.agent.uid));

    const audit = (await server.as().get('/api/audit/events?entityType=SigningKey&limit=50').expect(200)).body.items as Array<{ action: string; entityId: string }>;
    expect(audit.map((e) => `${e.action}:${e.entityId}`)).toEqual(expect.arrayContaining([`Generated:${first!.id}`, `Created:${created.id}`, `Activated:${created.id}`, `Retired:${first!.id}`]));
    const decision = (await server.as().get(`/api/audit/events?entityType=ApprovalRequest&entityId=${asked.approvalId}&action=Approved`).expect(200)).body.items[0];
    expect(decision.additional).toMatchObject({ subjectKind: 'SigningKey', subjectId: created.id, authors: [expect.objectContaining({ kind: 'pat' })], decider: expect.objectContaining({ actor: expect.stringMatching(/^ca-reviewer-/) }) });
  });

  it('refuses transitions the lifecycle does not allow, and key changes by anyone but a default-tenant Admin', async () => {
    const active = (await keys()).find((k) => k.state === 'Active')!;
    const again = await server.as().post(`/api/pki/signing-keys/${active.id}/activate`).expect(409);
    expect(again.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(again.body.code).toBe('SIGNING_KEY_NOT_DRAFT');
    expect((await server.as().post(`/api/pki/signing-keys/${active.id}/retire`).expect(409)).body.code).toBe('SIGNING_KEY_ACTIVE');
    expect((await server.as().post('/api/pki/signing-keys/0193a2b4-0000-7000-8000-000000000000/retire').expect(404)).body.code).toBe('SIGNING_KEY_NOT_FOUND');
    await server.as().post('/api/pki/signing-keys').send({ algorithm: 'DSA-1024' }).expect(400);

    const operator = await createToken(server, 'Operator');
    await server.as(operator).get('/api/pki/signing-keys').expect(403);
    await server.as(operator).post('/api/pki/signing-keys').send({}).expect(403);

    await server.app.get(TenantService).create('acme');
    const acmeAdmin = (await server.app.get(TokenService).createForTenantName('acme', { name: 'acme-admin', role: Role.Admin })).plaintext;
    const refused = await server.as(acmeAdmin).post('/api/pki/signing-keys').send({}).expect(403);
    expect(refused.body.code).toBe('SIGNING_KEYS_FORBIDDEN');
    expect((await server.as(acmeAdmin).get('/api/pki/signing-keys').expect(200)).body.items.length).toBeGreaterThan(0);
  });

  it('makes RSA-3072 keys that sign leaves and CRLs openssl accepts; the maintenance job retires keys whose window ended', async () => {
    const rsa = (await server.as().post('/api/pki/signing-keys').send({ algorithm: 'RSA-3072', commonName: 'Ampora RSA CA' }).expect(201)).body as Key;
    const caFile = files.write('rsa-ca.pem', rsa.certificate);
    const text = (await openssl(['x509', '-in', caFile, '-noout', '-text'], files.dir)).stdout;
    expect(text).toContain('Public-Key: (3072 bit)');
    expect(text).toContain('Subject: CN = Ampora RSA CA');
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    const replaced = (await keys()).find((k) => k.state === 'Active')!;
    await activate(rsa.id);

    const leaf = await enrol();
    const leafFile = files.write('rsa-leaf.pem', leaf.cert);
    expect((await openssl(['x509', '-in', leafFile, '-noout', '-text'], files.dir)).stdout).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect((await openssl(['verify', '-CAfile', caFile, leafFile], files.dir)).stdout).toContain(': OK');
    const crl = await eventually(async () => {
      const res = await fetch(`${server.url}/pki/crl.der`);
      if (res.status !== 200) return undefined;
      const out = await openssl(['crl', '-inform', 'DER', '-in', files.write('rsa-crl.der', Buffer.from(await res.arrayBuffer())), '-noout', '-text', '-CAfile', caFile], files.dir);
      return out.stderr.includes('verify OK') ? out : undefined;
    }, 15000, 250);
    expect(crl.stdout).toContain('Ampora RSA CA');

    // thirty-one days later, the replaced key's window has ended: the hourly job retires it
    const result = await server.app.get(SigningKeysService).maintain(new Date(Date.now() + 31 * 86_400_000));
    expect(result.retired).toBeGreaterThanOrEqual(1);
    expect((await keys()).find((k) => k.id === replaced.id)!.state).toBe('Retired');
    const audit = (await server.as().get(`/api/audit/events?entityType=SigningKey&entityId=${replaced.id}&action=Retired`).expect(200)).body.items;
    expect(audit).toHaveLength(1);
  });
});
