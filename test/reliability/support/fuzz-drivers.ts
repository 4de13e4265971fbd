import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { TestAgent } from '@ampora/testing';
import { badHttpBody, badWsFrame, RejectReason } from './bad-frames';

/** What a fuzz run sent and what came back. */
export interface FuzzStats {
  sent: number;
  byReason: Record<RejectReason, number>;
  byKind: Record<string, number>;
  /** Frames answered otherwise than promised (wrong status, no error_response, a close instead of an answer...). */
  unexpected: string[];
  /** Frames neither answered nor closed within 1 s. */
  late: number;
  maxLatencyMs: number;
  /** 5xx answers and WebSocket closes 1011 (internal error). */
  serverErrors: number;
}

function emptyStats(): FuzzStats {
  return { sent: 0, byReason: { malformed: 0, oversize: 0 }, byKind: {}, unexpected: [], late: 0, maxLatencyMs: 0, serverErrors: 0 };
}

export function mergeStats(a: FuzzStats, b: FuzzStats): FuzzStats {
  const byKind = { ...a.byKind };
  for (const [k, n] of Object.entries(b.byKind)) byKind[k] = (byKind[k] ?? 0) + n;
  return {
    sent: a.sent + b.sent,
    byReason: { malformed: a.byReason.malformed + b.byReason.malformed, oversize: a.byReason.oversize + b.byReason.oversize },
    byKind,
    unexpected: [...a.unexpected, ...b.unexpected],
    late: a.late + b.late,
    maxLatencyMs: Math.max(a.maxLatencyMs, b.maxLatencyMs),
    serverErrors: a.serverErrors + b.serverErrors,
  };
}

/** Spaces one loop's iterations so that `loops` loops together make `perSecond`. */
function pacer(perSecond: number, loops: number): () => Promise<void> {
  const gapMs = (1000 * loops) / perSecond;
  let next = performance.now();
  return async () => {
    next += gapMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else next = performance.now(); // behind: do not burst to catch up
  };
}

const uids = new Map<string, Buffer>();
/** The one agent a bootstrap token enrols (the token belongs to the agent that redeemed it). */
function uidOf(token: string): Buffer {
  if (!uids.has(token)) uids.set(token, randomBytes(16));
  return uids.get(token)!;
}

async function connectAgent(url: string, token: string, uid: Buffer): Promise<TestAgent> {
  const agent = new TestAgent({ url, token, instanceUid: uid });
  await agent.connect();
  agent.ws!.on('error', () => undefined); // a reset after an oversize frame is expected
  agent.hello();
  const first = await agent.next(10_000).catch((error: Error) => {
    throw new Error(`${error.message} (hello of ${uid.toString('hex')}, close code ${agent.closeCode})`);
  });
  if (first.error_response) throw new Error(`hello refused: ${first.error_response.error_message}`);
  return agent;
}

/**
 * Sends `total` bad frames over WebSocket from one connection per token (each its own agent), one
 * frame at a time per connection, at about `perSecond` frames in all; a connection the server
 * closes (oversize) is opened again.
 */
export async function fuzzWebSocket(options: { url: string; tokens: string[]; total: number; perSecond: number; maxMessageBytes: number }): Promise<FuzzStats> {
  const stats = emptyStats();
  let remaining = options.total;
  await Promise.all(
    options.tokens.map(async (token) => {
      const uid = uidOf(token);
      const pace = pacer(options.perSecond, options.tokens.length);
      let agent = await connectAgent(options.url, token, uid);
      try {
        while (remaining > 0) {
          remaining--;
          await pace();
          if (agent.closeCode !== undefined) agent = await connectAgent(options.url, token, uid);
          agent.seq += 1;
          const frame = badWsFrame(uid, agent.seq, options.maxMessageBytes);
          stats.sent++;
          stats.byReason[frame.reason]++;
          stats.byKind[frame.kind] = (stats.byKind[frame.kind] ?? 0) + 1;
          const started = performance.now();
          agent.sendRaw(frame.data);
          const fate = await Promise.race([
            agent.next(1000).then((m) => ({ reply: m }), () => ({ late: true })),
            agent.closed(1000).then((code) => ({ code }), () => ({ late: true })),
          ]);
          const ms = performance.now() - started;
          stats.maxLatencyMs = Math.max(stats.maxLatencyMs, ms);
          if ('late' in fate) {
            stats.late++;
            continue;
          }
          if ('code' in fate && fate.code === 1011) stats.serverErrors++;
          const ok = frame.outcome === 'reply' ? 'reply' in fate && fate.reply.error_response !== undefined : 'code' in fate && fate.code === frame.closeCode;
          if (!ok) stats.unexpected.push(`${frame.kind}: ${JSON.stringify('code' in fate ? { close: fate.code } : fate.reply.error_response ?? 'no error_response')}`);
          if ('code' in fate) await agent.closed(1000).catch(() => undefined);
        }
      } finally {
        await agent.close();
      }
    }),
  );
  return stats;
}

/** POSTs one body to /v1/opamp; answers the status (0 when the connection broke without one). */
function post(url: string, body: Buffer, headers: Record<string, string>, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, authorization: `Bearer ${token}`, 'content-length': body.length }, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(-1));
    req.end(body);
  });
}

/** Sends `total` bad bodies to /v1/opamp over plain HTTP from `concurrency` loops at about `perSecond`. */
export async function fuzzHttp(options: { url: string; token: string; total: number; perSecond: number; concurrency: number; maxMessageBytes: number }): Promise<FuzzStats> {
  const stats = emptyStats();
  let remaining = options.total;
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      const pace = pacer(options.perSecond, options.concurrency);
      while (remaining > 0) {
        remaining--;
        await pace();
        const bad = badHttpBody(stats.sent + 1, options.maxMessageBytes);
        stats.sent++;
        stats.byReason[bad.reason]++;
        stats.byKind[bad.kind] = (stats.byKind[bad.kind] ?? 0) + 1;
        const started = performance.now();
        const status = await post(options.url, bad.body, bad.headers, options.token);
        const ms = performance.now() - started;
        stats.maxLatencyMs = Math.max(stats.maxLatencyMs, ms);
        if (ms > 1000) stats.late++;
        if (status >= 500) stats.serverErrors++;
        if (status !== bad.status) stats.unexpected.push(`${bad.kind}: HTTP ${status}, expected ${bad.status}`);
      }
    }),
  );
  return stats;
}

/**
 * Well-behaved agents: each sends a heartbeat every `intervalMs` and waits for the answer; every
 * round trip is recorded until `stop()`.
 */
export class Heartbeaters {
  readonly latencies: number[] = [];
  failures = 0;
  private running = false;
  private loops: Array<Promise<void>> = [];
  constructor(private readonly agents: TestAgent[]) {}

  static async connect(url: string, tokens: string[]): Promise<Heartbeaters> {
    const agents: TestAgent[] = [];
    for (const token of tokens) agents.push(await connectAgent(url, token, randomBytes(16)));
    return new Heartbeaters(agents);
  }

  start(intervalMs: number): void {
    this.latencies.length = 0;
    this.failures = 0;
    this.running = true;
    this.loops = this.agents.map(async (agent, i) => {
      await new Promise((r) => setTimeout(r, (intervalMs * i) / this.agents.length)); // spread out
      while (this.running) {
        const started = performance.now();
        agent.heartbeat();
        try {
          const reply = await agent.next(5000);
          if (reply.error_response) this.failures++;
          else this.latencies.push(performance.now() - started);
        } catch {
          this.failures++;
        }
        await new Promise((r) => setTimeout(r, Math.max(0, intervalMs - (performance.now() - started))));
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  async close(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.close()));
  }
}

/** A masked client data frame written straight to the socket (ws refuses to send after close). */
function maskedBinaryFrame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x82;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}

/**
 * Frames after close: an agent sends its close frame and then `frames` more data frames on the same
 * socket. Answers how many connections were not closed within 1 s (must be 0); the frames must not
 * be handled or counted (RFC 6455 §5.5.1: no data after a close).
 */
export async function framesAfterClose(url: string, token: string, connections: number, frames: number): Promise<{ sent: number; notClosedWithin1s: number }> {
  let notClosed = 0;
  let sent = 0;
  const uid = randomBytes(16); // the token belongs to the agent that redeemed it
  for (let i = 0; i < connections; i++) {
    const agent = await connectAgent(url, token, uid);
    const socket = (agent.ws as unknown as { _socket: import('node:net').Socket })._socket;
    const started = performance.now();
    agent.ws!.close(1000);
    for (let f = 0; f < frames; f++) {
      socket.write(maskedBinaryFrame(Buffer.concat([Buffer.from([0]), randomBytes(40)])));
      sent++;
    }
    await agent.closed(1000).catch(() => undefined);
    if (agent.closeCode === undefined || performance.now() - started > 1000) notClosed++;
    agent.ws!.terminate();
  }
  return { sent, notClosedWithin1s: notClosed };
}
