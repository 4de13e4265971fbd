import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { Client } from 'pg';
import { mintToken } from '@ampora/platform';
import {
  AgentCapability,
  createTestDatabase,
  eventually,
  freePort,
  makeTestPki,
  metricValue,
  openssl,
  REPO_ROOT,
  RunningProcess,
  scrape,
  scratch,
  startProcess,
  TEST_REDIS_URL,
  TestAgent,
  TestDatabase,
  TestPki,
  waitForHttp,
} from '@ampora/testing';

/**
 * The PKCS#11 signing provider on a real token (SoftHSM2 from Debian's softhsm2 package, as .ci/run
 * installs it): the CA key is generated inside the token and never leaves it, and issuance, CRLs and
 * OCSP answers signed there pass openssl's checks. SoftHSM finds its token directory through
 * SOFTHSM2_CONF in the process environment, so the built server and worker run as processes of their
 * own (the production topology; `npm run build` first).
 */
const MODULE = '/usr/lib/softhsm/libsofthsm2.so';
const PIN = '246810';
const LABEL = 'ampora-test';
const serverTls: TestPki = makeTestPki('OpAMP listener');
const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;

describe('the pkcs11 signing provider on SoftHSM2', () => {
  let db: TestDatabase;
  let server: RunningProcess;
  let worker: RunningProcess;
  let url: string;
  let wsUrl: string;
  let tlsUrl: string;
  let env: Record<string, string>;
  const admin = mintToken('amp-pat');
  const files = scratch('ampora-softhsm-');
  const agents: TestAgent[] = [];
  const as = () => ({
    get: (p: string) => request(url).get(p).set('Authorization', `Bearer ${admin}`),
    post: (p: string) => request(url).post(p).set('Authorization', `Bearer ${admin}`),
  });

  beforeAll(async () => {
    if (!existsSync(MODULE)) throw new Error(`${MODULE} is missing: apt-get install softhsm2 (.ci/run does)`);
    mkdirSync(join(files.dir, 'tokens'));
    const conf = files.write('softhsm2.conf', `directories.tokendir = ${join(files.dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', LABEL, '--pin', PIN, '--so-pin', '13579'], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: 'ignore' });
    db = await createTestDatabase();
    const [port, tlsPort] = [await freePort(), await freePort()];
    env = {
      NODE_ENV: 'test',
      SOFTHSM2_CONF: conf,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      AMPORA_REDIS_PREFIX: `ampora-test-${randomBytes(5).toString('hex')}`,
      AMPORA_HTTP_PORT: String(port),
      AMPORA_HTTP_HOST: '127.0.0.1',
      AMPORA_BOOTSTRAP_ADMIN_TOKEN: admin,
      AMPORA_MASTER_KEY: randomBytes(32).toString('base64'),
      AMPORA_PKI_CA_KEY_ALGORITHM: 'ECDSA-P256',
      AMPORA_PKI_PROVIDER: 'pkcs11',
      AMPORA_PKI_PKCS11_LIBRARY: MODULE,
      AMPORA_PKI_PKCS11_PIN: PIN,
      AMPORA_PKI_PKCS11_TOKEN_LABEL: LABEL,
      AMPORA_OPAMP_TLS_PORT: String(tlsPort),
      AMPORA_OPAMP_TLS_CERT_FILE: serverTls.server.certFile,
      AMPORA_OPAMP_TLS_KEY_FILE: serverTls.server.keyFile,
      AMPORA_OPAMP_TLS_CA_FILE: serverTls.caCertFile,
      LOG_LEVEL: 'Information',
    };
    url = `http://127.0.0.1:${port}`;
    wsUrl = `ws://127.0.0.1:${port}/v1/opamp`;
    tlsUrl = `wss://127.0.0.1:${tlsPort}/v1/opamp`;
    server = startProcess('server', env);
    await waitForHttp(`${url}/health/ready`);
    // the CA key exists (made by the server at start-up) before the worker signs CRLs with it
    worker = startProcess('worker', env);
    await worker.waitFor((r) => typeof r.message === 'string' && r.message.startsWith('Ampora worker'), 60_000);
  }, 120_000);
  afterAll(async () => {
    for (const a of agents) await a.close();
    await worker?.stop();
    await server?.stop();
    await db?.drop();
  });

  const track = (a: TestAgent) => (agents.push(a), a);

  it('generates the CA key inside the token: the row keeps only its id, the token refuses to export it', async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query(`SELECT id, provider, token_key_id, wrapped_private_key FROM pki_signing_keys WHERE state = 'Active'`);
    const responders = await client.query('SELECT token_key_id, wrapped_private_key FROM pki_ocsp_responders');
    await client.end();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider: 'pkcs11', wrapped_private_key: null });
    expect(rows[0].token_key_id).toMatch(/^[0-9a-f]+$/);
    expect(responders.rows[0]).toMatchObject({ wrapped_private_key: null });

    // an independent session on the same token (its own process) finds the key: not extractable, export refused
    const probe = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [
          '-e',
          `const { Crypto } = require('node-webcrypto-p11');
           (async () => {
             const t = new Crypto({ library: ${JSON.stringify(MODULE)}, slot: 0, pin: ${JSON.stringify(PIN)}, readWrite: false });
             const index = (await t.keyStorage.keys()).find((k) => k.startsWith('private-') && k.endsWith('-${rows[0].token_key_id}'));
             const key = await t.keyStorage.getItem(index, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
             let exported = 'exported';
             try { await t.subtle.exportKey('pkcs8', key); } catch (e) { exported = 'refused'; }
             console.log(JSON.stringify({ found: Boolean(index), extractable: key.extractable, exported }));
           })().catch((e) => { console.error(e); process.exit(1); });`,
        ],
        { cwd: REPO_ROOT, env: { PATH: process.env.PATH ?? '', SOFTHSM2_CONF: env.SOFTHSM2_CONF! } },
        (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(probe)).toEqual({ found: true, extractable: false, exported: 'refused' });
  });

  it('issues agent certificates signed in the token that openssl verifies and the mTLS listener accepts', async () => {
    const bootstrap = (await as().post('/api/bootstrap-tokens').send({ label: 'hsm' }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: wsUrl, token: bootstrap, capabilities: CAPS }));
    await agent.connect();
    agent.hello();
    const offered = (await agent.next()).connection_settings!.opamp!.certificate!;
    await agent.close();
    const bundle = files.write('bundle.pem', (await request(url).get('/pki/trust-bundle.pem').expect(200)).text);
    expect((await openssl(['verify', '-CAfile', bundle, '-purpose', 'sslclient', files.write('leaf.pem', offered.cert!)], files.dir)).stdout).toContain(': OK');

    const tls = track(new TestAgent({ url: tlsUrl, capabilities: CAPS, instanceUid: agent.uid, wsOptions: { ca: serverTls.caCert, cert: offered.cert!, key: offered.private_key! } }));
    await tls.connect();
    tls.hello();
    expect((await tls.next()).error_response).toBeUndefined();
    await tls.close();

    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'api.key', '-out', 'api.csr', '-subj', '/CN=hsm-edge'], files.dir);
    const signed = (await as().post('/api/pki/agent-certificates').send({ csr: readFileSync(join(files.dir, 'api.csr'), 'utf8') }).expect(201)).body;
    expect((await openssl(['verify', '-CAfile', bundle, files.write('api.pem', signed.certificate)], files.dir)).stdout).toContain(': OK');
    expect(metricValue(await scrape(url), 'ampora_pki_signing_duration_seconds_count', { provider: 'pkcs11' })).toBeGreaterThanOrEqual(3);
  });

  it('publishes CRLs and OCSP answers signed in the token (openssl verifies both) after a revocation', async () => {
    const bootstrap = (await as().post('/api/bootstrap-tokens').send({ label: 'hsm-revoke' }).expect(201)).body.token as string;
    const agent = track(new TestAgent({ url: wsUrl, token: bootstrap, capabilities: CAPS }));
    await agent.connect();
    agent.hello();
    const offered = (await agent.next()).connection_settings!.opamp!.certificate!;
    await agent.close();
    const id = await eventually(async () => (await as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    const ca = files.write('ca.pem', offered.ca_cert!);
    const leaf = files.write('revoked.pem', offered.cert!);
    await as().post(`/api/agents/${id}/revoke-cert`).expect(200);

    const ocsp = await openssl(['ocsp', '-issuer', ca, '-cert', leaf, '-url', `${url}/pki/ocsp`, '-CAfile', ca], files.dir);
    expect(ocsp.stderr).toContain('Response verify OK');
    expect(ocsp.stdout).toContain(`${leaf}: revoked`);

    const serial = new X509Certificate(offered.cert!).serialNumber.toUpperCase();
    const crl = await eventually(async () => {
      const res = await fetch(`${url}/pki/crl.der`);
      if (res.status !== 200) return undefined;
      const out = await openssl(['crl', '-inform', 'DER', '-in', files.write('crl.der', Buffer.from(await res.arrayBuffer())), '-noout', '-text', '-CAfile', ca], files.dir);
      return out.stdout.includes(serial) ? out : undefined;
    }, 15000, 200);
    expect(crl.stderr).toContain('verify OK');
  });
});
