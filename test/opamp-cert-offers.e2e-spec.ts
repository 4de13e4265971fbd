import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { OpampTransportService } from '@ampora/opamp';
import { AgentCapability, captureLogs, decodeServerToAgent, encodeAgentToServer, eventually, makeTestPki, metricValue, S2A, scrape, TestAgent, TestClock, TestPki } from '@ampora/testing';
import { startTestServer, TestServer } from './support/test-server';

/**
 * Issue 26 item 0: the bootstrap-token → certificate offer → mTLS move, as the OpAMP Supervisor makes
 * it. The Supervisor verifies the server it is sent to with the offer's `ca_cert` as its ONLY root, goes
 * to `destination_endpoint`, and forgets offered settings when it restarts (it comes back with its token
 * and the same instance uid). Decisions 0120 and 0121.
 */
const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;
const fingerprint = (pem: Buffer | string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
const pemBlocks = (pem: Buffer) => pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** What the Supervisor does before it sends anything: a TLS handshake that trusts `roots` and nothing else. */
function verifiesWithOnly(roots: Buffer | string, endpoint: string): Promise<{ authorized: boolean; error?: string }> {
  const url = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: url.hostname, port: Number(url.port), ca: roots, rejectUnauthorized: false, servername: /^[\d.]+$/.test(url.hostname) ? undefined : url.hostname }, () => {
      const error = socket.authorizationError ? String(socket.authorizationError) : undefined;
      socket.end();
      resolve({ authorized: socket.authorized, error });
    });
    socket.on('error', (e) => resolve({ authorized: false, error: e.message }));
  });
}

function harness(server: () => TestServer) {
  const agents: TestAgent[] = [];
  const track = (a: TestAgent) => (agents.push(a), a);
  const wsUrl = () => `ws://127.0.0.1:${server().port}/v1/opamp`;
  const newToken = async () => (await server().as().post('/api/bootstrap-tokens').send({ label: 'offers' }).expect(201)).body.token as string;
  /** One token connection: hello, the first reply, close. */
  async function tokenConnection(token: string, uid?: Buffer, capabilities = CAPS): Promise<{ agent: TestAgent; reply: S2A }> {
    const agent = track(new TestAgent({ url: wsUrl(), token, capabilities, instanceUid: uid }));
    await agent.connect();
    agent.hello();
    const reply = await agent.next();
    await agent.close();
    return { agent, reply };
  }
  /** Follows an offer the way the Supervisor does: to its endpoint, trusting its ca_cert only, presenting its certificate. */
  async function follow(reply: S2A, uid: Buffer): Promise<TestAgent> {
    const s = reply.connection_settings!.opamp!;
    const c = s.certificate!;
    const moved = track(new TestAgent({ url: s.destination_endpoint!, capabilities: CAPS, instanceUid: uid, wsOptions: { ca: c.ca_cert, cert: c.cert, key: c.private_key } }));
    await moved.connect();
    moved.hello();
    expect((await moved.next()).error_response).toBeUndefined();
    return moved;
  }
  const agentId = (uid: Buffer) => eventually(async () => (await server().as().get(`/api/agents?text=${uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
  const detail = async (id: string) => (await server().as().get(`/api/agents/${id}`).expect(200)).body;
  const closeAll = async () => {
    for (const a of agents) await a.close();
  };
  return { track, wsUrl, newToken, tokenConnection, follow, agentId, detail, closeAll };
}

describe('certificate offers with the listener certificate issued by Ampora (no operator certificate, no AMPORA_OPAMP_MTLS_URL)', () => {
  captureLogs('Information');
  let server: TestServer;
  let tlsPort: number;
  const h = harness(() => server);
  // the offer timeout passes when the test says so (certificates are dated by it too: it starts at the host's time)
  const clock = new TestClock(Date.now());

  beforeAll(async () => {
    server = await startTestServer({
      clock,
      env: {
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_REQUIRE_MTLS: 'true',
        AMPORA_PKI_OFFER_TIMEOUT_SECONDS: '5',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
      },
    });
    tlsPort = await eventually(() => server.app.get(OpampTransportService).tlsPort);
  });
  afterAll(async () => {
    await h.closeAll();
    await server.close();
  });

  it('sends a token agent to the TLS listener it can verify with the offer alone; it becomes its certificate, and again after a restart', async () => {
    const token = await h.newToken();
    const { agent, reply } = await h.tokenConnection(token);
    const offer = reply.connection_settings!.opamp!;
    // the endpoint is named (derived from the TLS listener: the name the agent used, the listener's port)
    expect(offer.destination_endpoint).toBe(`wss://127.0.0.1:${tlsPort}/v1/opamp`);
    // the Supervisor's check: the listener's certificate validates with ONLY the offer's ca_cert as root
    expect(await verifiesWithOnly(offer.certificate!.ca_cert!, offer.destination_endpoint!)).toEqual({ authorized: true, error: undefined });
    const id = await h.agentId(agent.uid);
    expect((await h.detail(id)).identity.certificateOffer).toMatchObject({ status: 'pending', endpoint: offer.destination_endpoint, fingerprint: fingerprint(offer.certificate!.cert!) });

    const moved = await h.follow(reply, agent.uid);
    const first = await eventually(async () => {
      const d = await h.detail(id);
      return d.connection.connected && d.identity.kind === 'certificate' ? d : undefined;
    });
    expect(first.identity.certificateFingerprint).toBe(fingerprint(offer.certificate!.cert!));
    expect(first.identity.certificateOffer).toMatchObject({ status: 'used', usedAt: expect.any(String) });
    await moved.close();

    // the Supervisor restarts: it forgot the offer and comes back with its token and the same uid;
    // REQUIRE_MTLS admits it (it takes connection settings) and offers a new certificate (a second later: offers are ordered by time)
    await clock.advance(1_000);
    const restart = await h.tokenConnection(token, agent.uid);
    expect(restart.reply.error_response).toBeUndefined();
    const second = restart.reply.connection_settings?.opamp;
    expect(second?.destination_endpoint).toBe(offer.destination_endpoint);
    expect(fingerprint(second!.certificate!.cert!)).not.toBe(fingerprint(offer.certificate!.cert!));
    const movedAgain = await h.follow(restart.reply, agent.uid);
    const after = await eventually(async () => {
      const d = await h.detail(id);
      return d.connection.connected && d.identity.certificateFingerprint === fingerprint(second!.certificate!.cert!) ? d : undefined;
    });
    expect(after.identity.kind).toBe('certificate');
    expect(after.id).toBe(id);
    await movedAgain.close();

    // the first certificate's key existed only in the first offer: it was superseded once the second was used
    const certs = (await server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items as Array<{ fingerprint: string; status: string }>;
    expect(certs.find((c) => c.fingerprint === fingerprint(offer.certificate!.cert!))?.status).toBe('revoked');
    expect(certs.find((c) => c.fingerprint === fingerprint(second!.certificate!.cert!))?.status).toBe('valid');
  });

  it('sends an HTTP agent to the listener over https, where its certificate identifies it', async () => {
    const token = await h.newToken();
    const uid = randomBytes(16);
    const hello = (seq: number) => encodeAgentToServer({ instance_uid: uid, sequence_num: seq, capabilities: CAPS, agent_description: { identifying_attributes: [{ key: 'service.name', value: { string_value: 'http-agent' } }] } });
    const first = await fetch(`${server.url}/v1/opamp`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` }, body: hello(1) });
    expect(first.status).toBe(200);
    const offer = decodeServerToAgent(Buffer.from(await first.arrayBuffer())).connection_settings!.opamp!;
    expect(offer.destination_endpoint).toBe(`https://127.0.0.1:${tlsPort}/v1/opamp`);
    const c = offer.certificate!;
    // a poll over https that trusts only the offer's ca_cert and presents the offered certificate
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(offer.destination_endpoint!);
      const req = httpsRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', ca: c.ca_cert, cert: c.cert, key: c.private_key, headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(hello(2));
    });
    expect(status).toBe(200);
    const id = await h.agentId(uid);
    const d = await eventually(async () => {
      const got = await h.detail(id);
      return got.identity.kind === 'certificate' ? got : undefined;
    });
    expect(d.identity.certificateFingerprint).toBe(fingerprint(c.cert!));
  });

  it('an offer the agent never uses is noticed, shown on the agent, not repeated, and never locks the token out', async () => {
    const unusableBefore = metricValue(await scrape(server.url), 'ampora_pki_offers_unusable_total');
    const token = await h.newToken();
    const { agent, reply } = await h.tokenConnection(token);
    expect(reply.connection_settings?.opamp?.certificate?.cert).toBeTruthy();
    const id = await h.agentId(agent.uid);

    // still pending: the agent comes back with its token (REQUIRE_MTLS is on) and is admitted; nothing new is issued
    const pending = await h.tokenConnection(token, agent.uid);
    expect(pending.reply.error_response).toBeUndefined();
    expect(pending.reply.connection_settings?.opamp?.certificate).toBeUndefined();

    // AMPORA_PKI_OFFER_TIMEOUT_SECONDS (5 s) later, past the watcher's next look (every 1.25 s), the offer is unusable, on the agent and in the metric
    await clock.advance(6_500);
    const shown = await eventually(async () => {
      const o = (await h.detail(id)).identity.certificateOffer;
      return o?.status === 'unusable' && o.unusableAt ? o : undefined;
    }, 20_000);
    expect(shown.usedAt).toBeNull();
    await eventually(async () => metricValue(await scrape(server.url), 'ampora_pki_offers_unusable_total') >= unusableBefore + 1, 10_000);

    // the token keeps working, and the same offer is not made again
    for (let i = 0; i < 2; i++) {
      const again = await h.tokenConnection(token, agent.uid);
      expect(again.reply.error_response).toBeUndefined();
      expect(again.reply.connection_settings?.opamp?.certificate).toBeUndefined();
    }
    const d = await h.detail(id);
    expect(d.identity.kind).toBe('token');
    expect(d.identity.certificateOffer.status).toBe('unusable');
    expect((await server.as().get(`/api/pki/certificates?agentId=${id}`).expect(200)).body.items).toHaveLength(1);
  });
});

describe('certificate offers with the operator\'s own listener certificate', () => {
  captureLogs('Information');
  const operator: TestPki = makeTestPki('Operator CA');
  let server: TestServer;
  let tlsPort: number;
  const h = harness(() => server);

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_TLS_CERT_FILE: operator.server.certFile,
        AMPORA_OPAMP_TLS_KEY_FILE: operator.server.keyFile,
        AMPORA_OPAMP_TLS_CA_FILE: operator.caCertFile,
        AMPORA_OPAMP_REQUIRE_MTLS: 'true',
      },
    });
    tlsPort = await eventually(() => server.app.get(OpampTransportService).tlsPort);
  });
  afterAll(async () => {
    await h.closeAll();
    await server.close();
  });

  it('carries the listener\'s CA next to Ampora\'s in ca_cert, so the agent verifies the listener and moves', async () => {
    const { agent, reply } = await h.tokenConnection(await h.newToken());
    const offer = reply.connection_settings!.opamp!;
    expect(offer.destination_endpoint).toBe(`wss://127.0.0.1:${tlsPort}/v1/opamp`);
    const blocks = pemBlocks(offer.certificate!.ca_cert!);
    expect(blocks).toHaveLength(2);
    // Ampora's agent CA alone is what locked the Supervisor out: it does not verify this listener
    expect((await verifiesWithOnly(`${blocks[0]}\n`, offer.destination_endpoint!)).authorized).toBe(false);
    expect((await verifiesWithOnly(offer.certificate!.ca_cert!, offer.destination_endpoint!)).authorized).toBe(true);
    const moved = await h.follow(reply, agent.uid);
    const id = await h.agentId(agent.uid);
    await eventually(async () => (await h.detail(id)).identity.kind === 'certificate');
    await moved.close();
  });
});

describe('no certificate offer when agents could not verify the listener', () => {
  const logs = captureLogs('Information');
  const operator: TestPki = makeTestPki('Operator CA without its file');
  let server: TestServer;
  const h = harness(() => server);

  beforeAll(async () => {
    server = await startTestServer({
      env: {
        AMPORA_OPAMP_TLS_PORT: '0',
        AMPORA_OPAMP_TLS_CERT_FILE: operator.server.certFile,
        AMPORA_OPAMP_TLS_KEY_FILE: operator.server.keyFile,
        AMPORA_OPAMP_REQUIRE_MTLS: 'true',
      },
    });
  });
  afterAll(async () => {
    await h.closeAll();
    await server.close();
  });

  it('enrols the agent on its token without a certificate, and says why in the log', async () => {
    const token = await h.newToken();
    const { agent, reply } = await h.tokenConnection(token);
    expect(reply.error_response).toBeUndefined();
    expect(reply.connection_settings?.opamp?.certificate).toBeUndefined();
    const again = await h.tokenConnection(token, agent.uid);
    expect(again.reply.error_response).toBeUndefined();
    expect(logs.find((r) => String(r.message ?? r['@m'] ?? '').includes('AMPORA_OPAMP_TLS_CA_FILE') || JSON.stringify(r).includes('AMPORA_OPAMP_TLS_CA_FILE'))).toBeDefined();
  });
});

describe('with AMPORA_OPAMP_TOKEN_REISSUE=false', () => {
  let server: TestServer;
  const h = harness(() => server);

  beforeAll(async () => {
    server = await startTestServer({
      env: { AMPORA_OPAMP_TLS_PORT: '0', AMPORA_OPAMP_REQUIRE_MTLS: 'true', AMPORA_OPAMP_TOKEN_REISSUE: 'false', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100' },
    });
    await eventually(() => server.app.get(OpampTransportService).tlsPort);
  });
  afterAll(async () => {
    await h.closeAll();
    await server.close();
  });

  it('refuses the token of an agent that has used its certificate, though it takes connection settings', async () => {
    const token = await h.newToken();
    const { agent, reply } = await h.tokenConnection(token);
    const id = await h.agentId(agent.uid);
    const moved = await h.follow(reply, agent.uid);
    await eventually(async () => ((await h.detail(id)).identity.certificateOffer?.status === 'used' ? true : undefined));
    await moved.close();

    const again = h.track(new TestAgent({ url: h.wsUrl(), token, capabilities: CAPS, instanceUid: agent.uid }));
    await again.connect();
    again.hello();
    expect(await again.closed()).toBe(1008);
    // and its certificate still admits it
    const back = await h.follow(reply, agent.uid);
    await back.close();
  });
});
