import { createDecipheriv, X509Certificate } from 'node:crypto';
import { OpampTransportService } from '@ampora/opamp';
import { AgentCapability, captureLogs, eventually, LogCapture, makeTestPki, metricValue, scrape, scratch, TestAgent, TestPki } from '@ampora/testing';
import { startTestServer, TestServer } from './test-server';

/** The listener's own certificate, and a CA Ampora does not trust. */
export const serverTls: TestPki = makeTestPki('OpAMP listener');
export const foreign: TestPki = makeTestPki('Somebody else');
/** What agents are told to use with their certificate (the test's agents dial the real port). */
export const MTLS_URL = 'wss://opamp-mtls.example.test:4322/v1/opamp';
export const CAPS = AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.AcceptsOpAMPConnectionSettings | AgentCapability.ReportsHeartbeat;

export interface MtlsKit {
  readonly server: TestServer;
  readonly wsUrl: string;
  readonly tlsUrl: string;
  readonly files: ReturnType<typeof scratch>;
  readonly logs: LogCapture;
  track(a: TestAgent): TestAgent;
  /** `ampora_opamp_frames_rejected_total{reason="auth_failed"}` now. */
  authFailed(): Promise<number>;
  /** An agent that dials the mTLS listener with this certificate. */
  overTls(cert: { cert: Buffer | string; key: Buffer | string }, uid?: Buffer): TestAgent;
  /** The trust bundle, written to a scratch file. */
  trustBundle(): Promise<string>;
  agentByUid(uid: Buffer): Promise<string>;
  /** Enrols an agent over plain WebSocket with a bootstrap token; returns the first reply. */
  enrol(extra?: Record<string, unknown>): Promise<{ agent: TestAgent; reply: Awaited<ReturnType<TestAgent['next']>>; token: string; id: string }>;
  /** Connects, says hello and expects an answer without an error. */
  connects(agent: TestAgent): Promise<void>;
}

/**
 * The mTLS suites' server (PKI on, a TLS listener that requires client certificates, a worker) and
 * their helpers. Call inside `describe`: it registers the log capture and the server's beforeAll and
 * afterAll.
 */
export function mtlsSuite(): MtlsKit {
  const logs = captureLogs('Debug');
  const files = scratch();
  const agents: TestAgent[] = [];
  let server!: TestServer;
  let wsUrl = '';
  let tlsUrl = '';

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
  const kit: MtlsKit = {
    get server() {
      return server;
    },
    get wsUrl() {
      return wsUrl;
    },
    get tlsUrl() {
      return tlsUrl;
    },
    files,
    logs,
    track,
    authFailed: async () => metricValue(await scrape(server.url), 'ampora_opamp_frames_rejected_total', { reason: 'auth_failed' }),
    overTls: (cert, uid) => track(new TestAgent({ url: tlsUrl, capabilities: CAPS, instanceUid: uid, wsOptions: { ca: serverTls.caCert, cert: cert.cert, key: cert.key } })),
    trustBundle: async () => files.write('bundle.pem', (await server.http.get('/pki/trust-bundle.pem').expect(200)).text),
    agentByUid: (uid) => eventually(async () => (await server.as().get(`/api/agents?text=${uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined),
    async enrol(extra = {}) {
      const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'pki' }).expect(201)).body.token as string;
      const agent = track(new TestAgent({ url: wsUrl, token, capabilities: CAPS }));
      await agent.connect();
      agent.hello(extra);
      const reply = await agent.next();
      await agent.close();
      return { agent, reply, token, id: await kit.agentByUid(agent.uid) };
    },
    async connects(agent) {
      await agent.connect();
      agent.hello();
      const reply = await agent.next();
      expect(reply.error_response).toBeUndefined();
    },
  };
  return kit;
}

/** The SHA-256 fingerprint of a certificate, as Ampora shows it (lower-case hex, no colons). */
export function createFingerprint(pem: Buffer | string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Independent reading of the sealed format: version(1) | key id(8) | iv(12) | tag(16) | ciphertext. */
export function openSealed(sealed: Buffer, key: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(9, 21));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(21, 37));
  return Buffer.concat([decipher.update(sealed.subarray(37)), decipher.final()]);
}
