import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, freePort, REPO_ROOT, RunningProcess, startProcess, TestDatabase, testEnv } from '@ampora/testing';
import { Api, apiClient, expectStatus } from '../../support/rollout-kit';

/**
 * The interop suite's harness: Ampora as built processes (server and worker, `dist/`) on real
 * PostgreSQL and Redis, and the real OpAMP peers built from test/interop/ (scripts/interop-build.js):
 * the Collector with the contrib opamp extension, the contrib OpAMP Supervisor and the opamp-go load
 * generator. Every peer process is started in its own process group and killed with it, so no
 * Collector outlives a test.
 */

export interface PeerBinaries {
  go: string;
  testcol: string;
  opampsupervisor: string;
  loadgen: string;
}

const binaries: Partial<PeerBinaries> = {};

/** A peer's binary (built on first use, then taken from the cache outside the work tree). */
export function peer(name: 'testcol' | 'opampsupervisor' | 'loadgen'): string {
  if (!binaries[name]) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPeers } = require(join(REPO_ROOT, 'scripts', 'interop-build.js')) as { buildPeers(o: { log(l: string): void; only: string[] }): PeerBinaries };
    Object.assign(binaries, buildPeers({ log: () => undefined, only: [name] }));
  }
  return binaries[name]!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy; the error names what was awaited and the last value. */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 2000)})`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Ampora

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

const running = new Set<PeerProcess>();
/** Working directories of the peers (configs, Supervisor storage), removed with them. */
const peerDirs = new Set<string>();
function peerDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  peerDirs.add(dir);
  return dir;
}

/** A peer started in its own process group; `kill()` ends the group (the Supervisor's Collector with it). */
export class PeerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    env: Record<string, string> = {},
    cwd?: string,
  ) {
    this.child = spawn(file, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 4000) this.output.splice(0, 1000);
      if (process.env.INTEROP_LOG === '1') process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((res) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        res(code ?? (signal ? -1 : null));
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  text(): string {
    return this.output.join('');
  }

  /** SIGTERM to the group, then SIGKILL to the group after `graceMs`. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const group = (s: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, s);
      } catch {
        // gone
      }
    };
    if (this.alive) {
      group(signal);
      const done = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) group('SIGKILL');
      await this.exited;
    }
    // whatever the leader left in its group (a Collector that outlived its Supervisor)
    group('SIGKILL');
  }
}

/** Ends every peer still running and removes their directories (afterAll of each suite). */
export async function killAllPeers(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGTERM', 5_000)));
  for (const dir of peerDirs) rmSync(dir, { recursive: true, force: true });
  peerDirs.clear();
}

// ---------------------------------------------------------------------------------------------
// The Collector with the opamp extension (no Supervisor)

export interface ExtensionCollectorOptions {
  endpoint: string;
  token?: string;
  /** The fixed instance uid (a UUID); the extension makes a new one on each start without it. */
  instanceUid?: string;
  tls?: { caFile: string; certFile: string; keyFile: string };
  otlpPort?: number;
}

/** A Collector running its own configuration with the opamp extension reporting to Ampora. */
export class ExtensionCollector {
  readonly dir = peerDir('ampora-col-');
  readonly configFile = join(this.dir, 'config.yaml');
  proc?: PeerProcess;

  constructor(readonly options: ExtensionCollectorOptions) {
    writeFileSync(this.configFile, extensionCollectorYaml(options));
  }

  start(): PeerProcess {
    this.proc = new PeerProcess('testcol', peer('testcol'), ['--config', this.configFile]);
    return this.proc;
  }
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.proc?.kill(signal);
  }
  async close(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const q = (s: string) => JSON.stringify(s);

export function extensionCollectorYaml(o: ExtensionCollectorOptions): string {
  const lines = [
    'extensions:',
    '  opamp:',
    '    server:',
    '      ws:',
    `        endpoint: ${q(o.endpoint)}`,
  ];
  if (o.token) lines.push('        headers:', `          Authorization: ${q(`Bearer ${o.token}`)}`);
  if (o.tls) lines.push('        tls:', `          ca_file: ${q(o.tls.caFile)}`, `          cert_file: ${q(o.tls.certFile)}`, `          key_file: ${q(o.tls.keyFile)}`);
  if (o.instanceUid) lines.push(`    instance_uid: ${q(o.instanceUid)}`);
  lines.push(
    '    capabilities:',
    '      reports_effective_config: true',
    '      reports_health: true',
    '      reports_available_components: true',
    '    agent_description:',
    '      non_identifying_attributes:',
    '        ampora.test: interop',
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:${o.otlpPort ?? 0}`,
    'exporters:',
    '  nop: {}',
    '  debug: {}',
    'service:',
    '  extensions: [opamp]',
    '  pipelines:',
    '    traces:',
    '      receivers: [otlp]',
    '      exporters: [nop]',
    '  telemetry:',
    '    metrics:',
    '      level: none',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// The OpAMP Supervisor managing a Collector

export interface SupervisorOptions {
  endpoint: string;
  token?: string;
  /** The Supervisor's instance id (a UUID); fixed so a restart is the same agent. */
  instanceId?: string;
  tls?: { caFile: string; certFile: string; keyFile: string };
  /** Collector environment (the versions in the tests read their OTLP ports from it). */
  env?: Record<string, string>;
  configApplyTimeoutSeconds?: number;
  acceptsConnectionSettings?: boolean;
}

/** The Supervisor's apply timer: APPLIED comes when it runs out with a healthy Collector (v0.158.0). */
export const SUPERVISOR_APPLY_TIMEOUT_SECONDS = 4;

export class Supervisor {
  readonly dir = peerDir('ampora-sup-');
  readonly storage = join(this.dir, 'storage');
  readonly configFile = join(this.dir, 'supervisor.yaml');
  readonly localFile = join(this.dir, 'local.yaml');
  readonly instanceId: string;
  proc?: PeerProcess;

  constructor(readonly options: SupervisorOptions) {
    this.instanceId = options.instanceId ?? randomUUID();
    mkdirSync(this.storage, { recursive: true, mode: 0o700 });
    // several Collectors on one machine: none of them may open the default metrics port 8888
    writeFileSync(this.localFile, 'service:\n  telemetry:\n    metrics:\n      level: none\n');
    writeFileSync(this.configFile, supervisorYaml(this, options));
  }

  start(): PeerProcess {
    this.proc = new PeerProcess(`supervisor-${this.instanceId.slice(-4)}`, peer('opampsupervisor'), ['--config', this.configFile], {}, this.dir);
    return this.proc;
  }

  /** Starts it and waits until Ampora lists it connected (Supervisors bootstrap one at a time). */
  async startAndWait(ampora: Ampora, timeoutMs = 120_000): Promise<AgentDetail> {
    const proc = this.start();
    try {
      const found = await ampora.agentByUid(this.instanceId, timeoutMs);
      return await ampora.waitAgent(found.id, 'supervisor connected', (a) => a.status === 'connected', timeoutMs);
    } catch (error) {
      throw new Error(`${(error as Error).message}\nsupervisor output:\n${proc.text().slice(-4000)}`);
    }
  }

  /** What the Supervisor wrote for its Collector last. */
  effectiveYaml(): string {
    try {
      return readFileSync(join(this.storage, 'effective.yaml'), 'utf8');
    } catch {
      return '';
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.proc?.kill(signal);
  }
  async close(): Promise<void> {
    await this.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function supervisorYaml(s: Supervisor, o: SupervisorOptions): string {
  const lines = ['server:', `  endpoint: ${q(o.endpoint)}`];
  if (o.token) lines.push('  headers:', `    Authorization: [${q(`Bearer ${o.token}`)}]`);
  if (o.tls) lines.push('  tls:', `    ca_file: ${q(o.tls.caFile)}`, `    cert_file: ${q(o.tls.certFile)}`, `    key_file: ${q(o.tls.keyFile)}`);
  lines.push(
    'capabilities:',
    '  accepts_remote_config: true',
    '  reports_remote_config: true',
    '  reports_effective_config: true',
    '  reports_health: true',
    '  reports_own_metrics: false',
    '  reports_available_components: true',
    '  reports_heartbeat: true',
    `  accepts_opamp_connection_settings: ${o.acceptsConnectionSettings ? 'true' : 'false'}`,
    'agent:',
    `  executable: ${q(peer('testcol'))}`,
    `  instance_id: ${q(s.instanceId)}`,
    `  config_apply_timeout: ${o.configApplyTimeoutSeconds ?? SUPERVISOR_APPLY_TIMEOUT_SECONDS}s`,
    '  bootstrap_timeout: 60s',
    '  orphan_detection_interval: 2s',
    '  collector_crash_log_snippet_kib: 4',
    // also for the Supervisor's bootstrap run of the Collector, which reads none of the files below:
    // two bootstraps at once (here, in the other interop file, anywhere on the host) must not both
    // want the default metrics port 8888
    '  args: ["--set=service.telemetry.metrics.level=none"]',
    '  config_files:',
    '    - $OWN_TELEMETRY_CONFIG',
    '    - $OPAMP_EXTENSION_CONFIG',
    '    - $REMOTE_CONFIG',
    `    - ${q(s.localFile)}`,
  );
  const env = o.env ?? {};
  if (Object.keys(env).length) {
    lines.push('  env:');
    for (const [k, v] of Object.entries(env)) lines.push(`    ${k}: ${q(v)}`);
  }
  lines.push('storage:', `  directory: ${q(s.storage)}`, 'telemetry:', '  logs:', '    level: info', '');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Talking to the Collector

/** POSTs one OTLP/HTTP trace (JSON) to a Collector's otlp receiver; the HTTP status (0: nothing listens). */
export async function sendOtlpTrace(port: number): Promise<number> {
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'ampora-interop' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'interop',
                kind: 1,
                startTimeUnixNano: String(Date.now() * 1e6),
                endTimeUnixNano: String(Date.now() * 1e6 + 1e6),
              },
            ],
          },
        ],
      },
    ],
  };
  try {
    const res = await fetch(`http://127.0.0.1:${port}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });
    return res.status;
  } catch {
    return 0;
  }
}

/** A Collector configuration whose otlp receiver listens on the port in the Collector's environment variable `portVar`. */
export function collectorVersionYaml(tag: string, portVar: string, extra: { receiver?: string } = {}): string {
  const lines = [
    `# ${tag}`,
    'receivers:',
    '  otlp:',
    '    protocols:',
    '      http:',
    `        endpoint: 127.0.0.1:\${env:${portVar}}`,
  ];
  if (extra.receiver) lines.push(`  ${extra.receiver}: {}`);
  lines.push(
    'exporters:',
    `  debug/${tag}:`,
    '    verbosity: basic',
    'service:',
    '  pipelines:',
    '    traces:',
    `      receivers: [otlp${extra.receiver ? `, ${extra.receiver}` : ''}]`,
    `      exporters: [debug/${tag}]`,
    '',
  );
  return lines.join('\n');
}
