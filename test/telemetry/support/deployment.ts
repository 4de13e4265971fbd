import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { join } from 'node:path';
import type { AmporaConfig } from '@ampora/platform';
import { createTestDatabase, eventually, freePort, openssl, OtlpReceiver, RunningProcess, scratch, startProcess, TestAgent, TestDatabase, testEnv } from '@ampora/testing';
import { Api, apiClient, expectStatus } from '../../support/rollout-kit';

/** One process of the deployment under test and where it answers. */
export interface Node {
  id: string;
  role: 'server' | 'worker';
  process: RunningProcess;
  /** Where `/metrics` and `/health/*` answer. */
  url: string;
}

export interface Server extends Node {
  ws: string;
  api: Api;
}

/**
 * Two server instances and a worker, as built processes (dist/), on one fresh PostgreSQL database and
 * one Redis, exporting their spans over OTLP/HTTP to `otlp`.
 */
export class Deployment {
  readonly otlp = new OtlpReceiver();
  db!: TestDatabase;
  env!: Record<string, string>;
  /** The configuration the processes read from `env` (its Redis key prefix names their queues). */
  config!: AmporaConfig;
  admin!: string;
  a!: Server;
  b!: Server;
  worker!: Node;
  readonly agents: TestAgent[] = [];
  private readonly sockets: Socket[] = [];
  private readonly tag = randomBytes(3).toString('hex');

  async start(overrides: Record<string, string>, perNode: Partial<Record<'a' | 'b' | 'worker', Record<string, string>>> = {}): Promise<void> {
    await this.otlp.start();
    this.db = await createTestDatabase();
    const t = testEnv(this.db.url, { OTEL_EXPORTER_OTLP_ENDPOINT: this.otlp.url, OTEL_BSP_SCHEDULE_DELAY: '200', ...overrides });
    this.env = t.env;
    this.config = t.config;
    this.admin = t.adminToken;
    const workerPort = await freePort();
    const [a, b, worker] = await Promise.all([
      this.startServer(`a-${this.tag}`, perNode.a ?? {}),
      this.startServer(`b-${this.tag}`, perNode.b ?? {}),
      (async (): Promise<Node> => {
        const id = `worker-${this.tag}`;
        const process = startProcess('worker', { ...this.env, AMPORA_INSTANCE_ID: id, AMPORA_WORKER_HTTP_PORT: String(workerPort), ...(perNode.worker ?? {}) });
        await process.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 90000);
        return { id, role: 'worker', process, url: `http://127.0.0.1:${workerPort}` };
      })(),
    ]);
    this.a = a;
    this.b = b;
    this.worker = worker;
  }

  private async startServer(id: string, extra: Record<string, string>): Promise<Server> {
    const process = startProcess('server', { ...this.env, AMPORA_INSTANCE_ID: id, ...extra });
    const listening = await process.waitFor((r) => typeof r.Port === 'number', 90000);
    const url = `http://127.0.0.1:${listening.Port as number}`;
    return { id, role: 'server', process, url, ws: `${url.replace('http', 'ws')}/v1/opamp`, api: apiClient(url, this.admin) };
  }

  get nodes(): Node[] {
    return [this.a, this.b, this.worker];
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const agent of this.agents) await agent.close().catch(() => undefined);
    await Promise.all(this.nodes.filter(Boolean).map((n) => n.process.stop('SIGKILL')));
    await this.otlp.stop();
    await this.db?.drop();
  }

  /** A REST call with a W3C traceparent of a fresh trace; answers the trace id and the response. */
  async traced(server: Server, method: string, path: string, body?: unknown): Promise<{ traceId: string; status: number; body: any }> {
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.admin}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { traceId, status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  /** Enrols an agent over WebSocket on `server` with a fresh bootstrap token; answers it with its id. */
  async enroll(server: Server, options: { autoApply?: boolean; capabilities?: number } = {}): Promise<{ agent: TestAgent; id: string }> {
    const token = (await expectStatus(server.api, 'POST', '/api/bootstrap-tokens', 201, { label: 'telemetry' })).body.token as string;
    const agent = new TestAgent({ url: server.ws, token, autoApply: options.autoApply ?? true, capabilities: options.capabilities });
    this.agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    if (first.error_response) throw new Error(`the agent was refused: ${JSON.stringify(first.error_response)}`);
    const id = await eventually(async () => (await server.api('GET', `/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`)).body.items[0]?.id as string | undefined);
    return { agent, id };
  }

  /**
   * A live-update subscriber on `server` that never reads: a raw HTTP request for `/api/live` whose
   * socket is paused, so the server's buffers fill and the subscriber's queue overflows.
   */
  stalledSubscriber(server: Server): void {
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    this.sockets.push(socket);
    socket.on('error', () => undefined);
    socket.write(`GET /api/live HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${this.admin}\r\n\r\n`);
    socket.pause();
  }
}

/** A PEM CSR made by openssl (the API signs it as an agent certificate). */
export async function makeCsr(commonName: string): Promise<string> {
  const files = scratch('ampora-telemetry-');
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'agent.key', '-out', 'agent.csr', '-subj', `/CN=${commonName}`], files.dir);
  return readFileSync(join(files.dir, 'agent.csr'), 'utf8');
}

/** The `/metrics` text of a node. */
export async function scrapeNode(node: Node): Promise<string> {
  const res = await fetch(`${node.url}/metrics`);
  if (res.status !== 200) throw new Error(`${node.id} /metrics answered ${res.status}`);
  return res.text();
}
