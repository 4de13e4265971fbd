import { createTestDatabase, freePort, RunningProcess, startProcess, TestDatabase, testEnv } from '@ampora/testing';
import { Api, apiClient, expectStatus } from '../../support/rollout-kit';
import { until } from './peer-processes';

/** Ampora as built processes (server and worker, `dist/`) on real PostgreSQL and Redis, and its API as the tests read it. */

export interface AmporaOptions {
  tls?: { certFile: string; keyFile: string };
  env?: Record<string, string>;
}

/** A server and a worker process on a database of their own; the server on a fixed port so peers reconnect to it after a restart. */
export class Ampora {
  db!: TestDatabase;
  env!: Record<string, string>;
  adminToken!: string;
  api!: Api;
  httpPort!: number;
  tlsPort: number | null = null;
  server!: RunningProcess;
  worker!: RunningProcess;
  private serverRuns = 0;

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }
  get wsUrl(): string {
    return `ws://127.0.0.1:${this.httpPort}/v1/opamp`;
  }
  get httpOpampUrl(): string {
    return `http://127.0.0.1:${this.httpPort}/v1/opamp`;
  }
  get wssUrl(): string {
    return `wss://127.0.0.1:${this.tlsPort}/v1/opamp`;
  }

  static async start(options: AmporaOptions = {}): Promise<Ampora> {
    const a = new Ampora();
    a.db = await createTestDatabase();
    a.httpPort = await freePort();
    const tls: Record<string, string> = {};
    if (options.tls) {
      a.tlsPort = await freePort();
      Object.assign(tls, { AMPORA_OPAMP_TLS_PORT: String(a.tlsPort), AMPORA_OPAMP_TLS_CERT_FILE: options.tls.certFile, AMPORA_OPAMP_TLS_KEY_FILE: options.tls.keyFile });
    }
    const t = testEnv(a.db.url, {
      AMPORA_HTTP_PORT: String(a.httpPort),
      AMPORA_AUTO_MIGRATE: 'false',
      AMPORA_OPAMP_FLUSH_INTERVAL_MS: '200',
      AMPORA_ROLLOUT_TICK_MS: '500',
      // agents' own metrics go to this server's OTLP intake (issue 20)
      AMPORA_AGENT_TELEMETRY_URL: `http://127.0.0.1:${a.httpPort}/v1/metrics`,
      LOG_LEVEL: 'Information',
      ...tls,
      ...options.env,
    });
    a.env = t.env;
    a.adminToken = t.adminToken;
    a.api = apiClient(a.baseUrl, t.adminToken);
    await a.startServer();
    a.worker = startProcess('worker', { ...a.env, AMPORA_INSTANCE_ID: 'interop-worker' });
    await a.worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 120_000);
    return a;
  }

  async startServer(): Promise<void> {
    this.serverRuns += 1;
    this.server = startProcess('server', { ...this.env, AMPORA_INSTANCE_ID: `interop-server-${this.serverRuns}` });
    // the TLS listener logs a Port of its own first: wait for the HTTP one
    await this.server.waitFor((r) => typeof r.Port === 'number' && String(r.message ?? '').startsWith('Ampora server'), 120_000);
  }

  /** Stops the server (SIGTERM, or SIGKILL for a crash) and starts it again on the same port. */
  async restartServer(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.server.stop(signal);
    await this.startServer();
  }

  async stop(): Promise<void> {
    await this.worker?.stop('SIGKILL');
    await this.server?.stop();
    await this.db?.drop();
  }

  async bootstrapToken(label = 'interop', extra: Record<string, unknown> = {}): Promise<string> {
    return (await expectStatus(this.api, 'POST', '/api/bootstrap-tokens', 201, { label, ...extra })).body.token as string;
  }

  async agents(query = ''): Promise<AgentSummary[]> {
    const out: AgentSummary[] = [];
    let cursor: string | undefined;
    do {
      const sep = query ? '&' : '';
      const page = (await expectStatus(this.api, 'GET', `/api/agents?limit=500${sep}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, 200)).body;
      out.push(...(page.items as AgentSummary[]));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return out;
  }

  async agent(id: string): Promise<AgentDetail> {
    return (await expectStatus(this.api, 'GET', `/api/agents/${id}`, 200)).body as AgentDetail;
  }

  /** The agent whose instance uid is `uid` (dashed or plain hex), once it is listed. */
  async agentByUid(uid: string, timeoutMs = 60_000): Promise<AgentDetail> {
    const plain = uid.replace(/-/g, '').toLowerCase();
    const summary = await until(`agent ${uid} listed`, async () => (await this.agents()).find((a) => a.instanceUid.replace(/-/g, '').toLowerCase() === plain), timeoutMs);
    return this.agent(summary.id);
  }

  /** Polls GET /api/agents/{id} until `predicate` holds. */
  async waitAgent(id: string, what: string, predicate: (a: AgentDetail) => boolean, timeoutMs = 90_000): Promise<AgentDetail> {
    let last: AgentDetail | undefined;
    try {
      return await until(what, async () => {
        last = await this.agent(id);
        return predicate(last) ? last : undefined;
      }, timeoutMs, 300);
    } catch (error) {
      const { effectiveConfig, availableComponents, health, ...rest } = last ?? ({} as AgentDetail);
      void effectiveConfig;
      void availableComponents;
      void health;
      throw new Error(`${(error as Error).message}; agent: ${JSON.stringify(rest).slice(0, 3000)}`);
    }
  }
}

export interface AgentSummary {
  id: string;
  instanceUid: string;
  displayName: string;
  status: string;
  healthy: boolean | null;
  remoteConfigStatus: string | null;
  drift: boolean | null;
  groupId: string | null;
}

export interface AgentDetail extends AgentSummary {
  identifyingAttributes: Record<string, unknown>;
  nonIdentifyingAttributes: Record<string, unknown>;
  capabilities: { bits: string; names: string[] };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  health: any;
  effectiveConfig: { files: Array<{ name: string; contentType: string; body: string }>; hash: string | null } | null;
  remoteConfig: { status: string | null; hash: string | null; errorMessage: string | null; failedHash: string | null };
  assignment: { source: string; versionId: string | null; configurationId: string | null; version: number | null } | null;
  assignedConfig: { hash: string; contentHash: string } | null;
  identity: { kind: 'token' | 'certificate'; bootstrapTokenId: string | null; certificateFingerprint: string | null };
  connection: { connected: boolean; transport: string | null };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  availableComponents: any;
}

// ---------------------------------------------------------------------------------------------
// Peer processes

