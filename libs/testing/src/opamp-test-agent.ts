import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import protobuf from 'protobufjs';
import WebSocket from 'ws';

/**
 * A simulated OpAMP agent over WebSocket for tests and benchmarks. Its codec is independent of the
 * server's: protobufjs loads the `.proto` files at run time (the server uses protobuf-es generated
 * code), so both must agree on the wire.
 */
const PROTO_DIR = resolve(__dirname, '../../opamp/proto');
let root: protobuf.Root | undefined;

export function opampRoot(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(PROTO_DIR, target.replace(/^.*[\\/]/, ''));
    root.loadSync('opamp.proto', { keepCase: true });
  }
  return root;
}

const type = (name: string) => opampRoot().lookupType(`opamp.proto.v1.${name}`);

export const AgentCapability = {
  ReportsStatus: 0x1,
  AcceptsRemoteConfig: 0x2,
  ReportsEffectiveConfig: 0x4,
  ReportsOwnTraces: 0x20,
  ReportsOwnMetrics: 0x40,
  ReportsOwnLogs: 0x80,
  AcceptsOpAMPConnectionSettings: 0x100,
  ReportsHealth: 0x800,
  ReportsRemoteConfig: 0x1000,
  ReportsHeartbeat: 0x2000,
} as const;

export const RemoteConfigStatus = { UNSET: 0, APPLIED: 1, APPLYING: 2, FAILED: 3 } as const;

/** A decoded ServerToAgent as a plain object (uint64 as strings, bytes as Buffers, defaults omitted). */
export interface S2A {
  instance_uid?: Buffer;
  error_response?: { type?: number; error_message?: string };
  remote_config?: { config?: { config_map?: Record<string, { body?: Buffer; content_type?: string }> }; config_hash?: Buffer };
  connection_settings?: {
    hash?: Buffer;
    opamp?: { destination_endpoint?: string; heartbeat_interval_seconds?: string; headers?: { headers?: Array<{ key?: string; value?: string }> }; certificate?: { cert?: Buffer; private_key?: Buffer; ca_cert?: Buffer } };
    own_metrics?: { destination_endpoint?: string; headers?: { headers?: Array<{ key?: string; value?: string }> } };
    own_traces?: { destination_endpoint?: string; headers?: { headers?: Array<{ key?: string; value?: string }> } };
    own_logs?: { destination_endpoint?: string; headers?: { headers?: Array<{ key?: string; value?: string }> } };
  };
  flags?: string;
  capabilities?: string;
  agent_identification?: { new_instance_uid?: Buffer };
  [key: string]: unknown;
}

export function encodeAgentToServer(message: Record<string, unknown>): Buffer {
  const t = type('AgentToServer');
  const err = t.verify(message);
  if (err) throw new Error(`test agent built an invalid AgentToServer: ${err}`);
  return Buffer.from(t.encode(t.fromObject(message)).finish());
}

export function decodeServerToAgent(bytes: Uint8Array): S2A {
  const t = type('ServerToAgent');
  return t.toObject(t.decode(bytes), { longs: String, bytes: Buffer, defaults: false }) as S2A;
}

function kv(attrs: Record<string, string>) {
  return Object.entries(attrs).map(([key, v]) => ({ key, value: { string_value: v } }));
}

export interface TestAgentOptions {
  url: string;
  token?: string;
  headers?: Record<string, string>;
  instanceUid?: Buffer;
  capabilities?: number;
  identifying?: Record<string, string>;
  nonIdentifying?: Record<string, string>;
  /** Apply remote configs automatically (report APPLYING then APPLIED). */
  autoApply?: boolean;
  /** What to report after a remote config (default APPLIED). */
  applyResult?: (body: string) => { status: number; error?: string };
  /** Report the applied config as effective config. */
  reportEffective?: boolean;
  wsOptions?: WebSocket.ClientOptions;
  /** Opens the connection with another client than `ws` (bench:scale's lean one); `wsOptions` then do not apply. */
  socket?: (url: string, headers: Record<string, string>) => AgentSocket;
}

/**
 * What a TestAgent uses of its connection: a `ws` WebSocket is one. Another client emits the same
 * events (`open`, `unexpected-response`, `error`, `message` with a Buffer, `close` with the code).
 */
export interface AgentSocket {
  readonly readyState: number;
  send(data: Buffer | string, options?: { binary?: boolean }): void;
  close(code?: number): void;
  terminate(): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): this;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once(event: string, listener: (...args: any[]) => void): this;
}

export class TestAgent {
  ws?: AgentSocket;
  uid: Buffer;
  seq = 0;
  readonly received: S2A[] = [];
  /** The connection settings the server offered, in order (kept whether or not `next()` took the message). */
  readonly connectionSettings: NonNullable<S2A['connection_settings']>[] = [];
  readonly opts: TestAgentOptions;
  closeCode?: number;
  appliedHash?: Buffer;
  /** The config body last applied. */
  appliedBody?: string;
  /** Called with each remote config (time of receipt, for latency measurements). */
  onRemoteConfig?: (s2a: S2A, at: number) => void;
  private waiters: Array<{ deliver: (m: S2A) => void; fail: (error: Error) => void }> = [];
  private closedWaiters: Array<(code: number) => void> = [];

  constructor(opts: TestAgentOptions) {
    this.opts = opts;
    this.uid = opts.instanceUid ?? randomBytes(16);
  }

  get capabilities(): number {
    return this.opts.capabilities ?? AgentCapability.ReportsStatus | AgentCapability.AcceptsRemoteConfig | AgentCapability.ReportsRemoteConfig | AgentCapability.ReportsEffectiveConfig | AgentCapability.ReportsHeartbeat;
  }

  /** Opens the WebSocket; rejects with the HTTP status (and Retry-After, in seconds) when the upgrade is refused. */
  connect(): Promise<void> {
    const headers: Record<string, string> = { ...(this.opts.headers ?? {}) };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    this.closeCode = undefined;
    // a new connection's messages are its own: what an earlier connection left unread is dropped, and
    // whoever still waits on that connection (a heartbeat whose server went away) is told it is gone,
    // instead of taking the new connection's first answer
    this.received.splice(0);
    for (const waiter of this.waiters.splice(0)) waiter.fail(new Error('the connection was replaced by a new one before the server answered'));
    return new Promise((res, rej) => {
      const ws = this.opts.socket?.(this.opts.url, headers) ?? Object.assign(new WebSocket(this.opts.url, { headers, ...(this.opts.wsOptions ?? {}) }), { binaryType: 'nodebuffer' as const });
      this.ws = ws;
      ws.once('open', () => res());
      ws.once('unexpected-response', (_req: unknown, response: { statusCode?: number; headers: Record<string, string | string[] | undefined>; resume(): void }) => {
        const retryAfter = response.headers['retry-after'];
        rej(Object.assign(new Error(`upgrade refused: ${response.statusCode}`), { status: response.statusCode, retryAfter: retryAfter === undefined ? undefined : Number(retryAfter) }));
        response.resume();
        ws.terminate();
      });
      ws.once('error', (e: Error) => rej(e));
      ws.on('message', (data: Buffer) => this.onMessage(data));
      ws.on('close', (code: number) => {
        this.closeCode = code;
        for (const w of this.closedWaiters.splice(0)) w(code);
      });
    });
  }

  /** Sends an AgentToServer (uid, sequence number and capabilities filled in). */
  send(fields: Record<string, unknown> = {}, options: { header?: boolean; seq?: number } = {}): void {
    this.seq = options.seq ?? this.seq + 1;
    const message = { instance_uid: this.uid, sequence_num: this.seq, capabilities: this.capabilities, ...fields };
    const payload = encodeAgentToServer(message);
    this.sendRaw(options.header === false ? payload : Buffer.concat([Buffer.from([0]), payload]));
  }

  sendRaw(data: Buffer | string): void {
    this.ws!.send(data, { binary: typeof data !== 'string' });
  }

  /** The first status report: description, and the statuses its capabilities promise. */
  hello(extra: Record<string, unknown> = {}): void {
    this.send({
      agent_description: {
        identifying_attributes: kv({ 'service.name': 'io.opentelemetry.collector', 'service.version': '0.120.0', ...(this.opts.identifying ?? {}) }),
        non_identifying_attributes: kv({ 'host.name': `host-${this.uid.toString('hex').slice(0, 6)}`, ...(this.opts.nonIdentifying ?? {}) }),
      },
      remote_config_status: { status: RemoteConfigStatus.UNSET },
      ...(this.capabilities & AgentCapability.ReportsEffectiveConfig ? { effective_config: { config_map: { config_map: {} } } } : {}),
      ...extra,
    });
  }

  heartbeat(): void {
    this.send({});
  }

  reportRemoteConfig(status: number, hash: Buffer | undefined, error = ''): void {
    this.send({ remote_config_status: { status, last_remote_config_hash: hash ?? Buffer.alloc(0), error_message: error } });
  }

  reportEffective(body: string, key = 'config.yaml'): void {
    this.send({ effective_config: { config_map: { config_map: { [key]: { body: Buffer.from(body), content_type: 'text/yaml' } } } } });
  }

  /** The next message from the server (waits up to `timeoutMs`). */
  next(timeoutMs = 5000): Promise<S2A> {
    const ready = this.received.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        rej(new Error('no message from the server in time'));
      }, timeoutMs);
      const waiter = {
        deliver: (m: S2A) => {
          clearTimeout(timer);
          res(m);
        },
        fail: (error: Error) => {
          clearTimeout(timer);
          rej(error);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for a message satisfying `predicate`, dropping the others. */
  async nextMatching(predicate: (m: S2A) => boolean, timeoutMs = 5000): Promise<S2A> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (predicate(m)) return m;
    }
  }

  closed(timeoutMs = 5000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error('the connection did not close in time')), timeoutMs);
      this.closedWaiters.push((code) => {
        clearTimeout(timer);
        res(code);
      });
    });
  }

  async close(): Promise<void> {
    if (!this.ws || this.ws.readyState === WebSocket.CLOSED) return;
    const done = new Promise<void>((r) => this.ws!.once('close', () => r()));
    this.ws.close(1000);
    await Promise.race([done, new Promise((r) => setTimeout(r, 1000))]);
    this.ws.terminate();
  }

  private onMessage(data: Buffer): void {
    if (data[0] !== 0) throw new Error('the server sent a frame without the OpAMP header');
    const m = decodeServerToAgent(data.subarray(1));
    if (m.agent_identification?.new_instance_uid) this.uid = Buffer.from(m.agent_identification.new_instance_uid);
    if (m.connection_settings) this.connectionSettings.push(m.connection_settings);
    if (m.remote_config) {
      this.onRemoteConfig?.(m, Date.now());
      if (this.opts.autoApply) this.apply(m);
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.deliver(m);
    else this.received.push(m);
  }

  private apply(m: S2A): void {
    const hash = m.remote_config!.config_hash;
    if (hash && this.appliedHash?.equals(hash)) return;
    const files = m.remote_config!.config?.config_map ?? {};
    const body = Object.values(files).map((f) => (f.body ? Buffer.from(f.body).toString() : ''))[0] ?? '';
    const result = this.opts.applyResult?.(body) ?? { status: RemoteConfigStatus.APPLIED };
    const status: Record<string, unknown> = { remote_config_status: { status: result.status, last_remote_config_hash: hash, error_message: result.error ?? '' } };
    if (result.status === RemoteConfigStatus.APPLIED) {
      this.appliedHash = hash;
      this.appliedBody = body;
      if (this.opts.reportEffective) status.effective_config = { config_map: { config_map: { '': { body: Buffer.from(body), content_type: 'text/yaml' } } } };
    }
    this.send(status);
  }
}
