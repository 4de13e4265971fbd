/**
 * A client process of bench/scale: holds up to 5,000 simulated WebSocket agents (the test agent's
 * independent protobufjs codec) and drives them on command from the coordinator (IPC messages).
 *
 * Every agent heartbeats at the default interval from the moment it is enrolled (a random phase per
 * agent, like a real fleet) and notes each round trip under the phase the coordinator named; the
 * closed loop (send, wait for the answer, send again) pauses those timers while it runs. Agents apply
 * every remote config at once (APPLIED for the pushed hash) and the process notes when each agent first
 * received each hash. After a server restart they reconnect by themselves with a jittered backoff (the
 * bootstrap token they enrolled with is bound to them), which is the reconnect storm.
 */
import { RemoteConfigStatus, TestAgent } from '@ampora/testing';
import { LeanSocket, pooledRandom } from './lean-socket';

type Command =
  | { cmd: 'connect'; agents: Array<{ url: string; token?: string }>; concurrency: number; heartbeatMs: number }
  | { cmd: 'phase'; name: string }
  | { cmd: 'rtts'; name: string }
  | { cmd: 'closed-loop'; windows: number; windowMs: number }
  | { cmd: 'count'; hash: string }
  | { cmd: 'times'; hash: string }
  | { cmd: 'last-config' }
  | { cmd: 'status' }
  | { cmd: 'storm'; concurrency: number; timeoutMs: number }
  | { cmd: 'storm-status' }
  | { cmd: 'close' };

const agents: TestAgent[] = [];
/** The lean WebSocket client (decision 0445) when the coordinator asked for it (`--client lean`); `ws` otherwise. */
const LEAN = process.env.AMPORA_BENCH_CLIENT === 'lean';
const send = (m: unknown) => process.send!(m);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** config hash (hex) → first receipts (ms since the epoch) and the agents' uids (hex). */
const firstReceipt = new Map<string, { at: number[]; uids: string[] }>();
const seen = new Map<TestAgent, Set<string>>();
/** uid (hex) → the last time a remote config arrived. */
const lastConfigAt = new Map<string, number>();

let phase = 'enrol';
const rtts = new Map<string, number[]>();
let paused = false;
/** Agents closed while the coordinator did not expect it (the server dropped them). */
let lostSessions = 0;
let stormArmed = false;

function noteConfig(agent: TestAgent, hash: string | undefined, at: number): void {
  const uid = agent.uid.toString('hex');
  lastConfigAt.set(uid, at);
  if (!hash) return;
  let hashes = seen.get(agent);
  if (!hashes) seen.set(agent, (hashes = new Set()));
  if (hashes.has(hash)) return;
  hashes.add(hash);
  let r = firstReceipt.get(hash);
  if (!r) firstReceipt.set(hash, (r = { at: [], uids: [] }));
  r.at.push(at);
  r.uids.push(uid);
}

const isOpen = (a: TestAgent) => a.ws?.readyState === 1;

/** One heartbeat and its answer (a message that is not a pushed config). */
async function beat(agent: TestAgent, timeoutMs: number): Promise<number | undefined> {
  agent.received.splice(0);
  const t0 = performance.now();
  agent.heartbeat();
  const reply = await agent.nextMatching((m) => !m.remote_config, timeoutMs).catch(() => undefined);
  return reply ? performance.now() - t0 : undefined;
}

function startHeartbeats(agent: TestAgent, intervalMs: number): void {
  let busy = false;
  const tick = () => {
    if (busy || paused || !isOpen(agent)) return;
    busy = true;
    void beat(agent, 30_000).then((ms) => {
      busy = false;
      if (ms === undefined) return;
      let list = rtts.get(phase);
      if (!list) rtts.set(phase, (list = []));
      list.push(ms);
    });
  };
  setTimeout(() => {
    tick();
    setInterval(tick, intervalMs);
  }, Math.random() * intervalMs);
}

async function enrol(agent: TestAgent): Promise<void> {
  await agent.connect();
  agent.hello();
  const reply = await agent.next(60_000);
  if (reply.error_response) throw new Error(reply.error_response.error_message);
}

async function connect(list: Array<{ url: string; token?: string }>, concurrency: number, heartbeatMs: number): Promise<void> {
  const connectMs: number[] = [];
  const uids: string[] = [];
  let failed = 0;
  let retried = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) {
        const spec = list[next++]!;
        const agent = new TestAgent({ url: spec.url, token: spec.token || undefined, autoApply: true, instanceUid: pooledRandom(16), socket: LEAN ? (url, headers) => new LeanSocket(url, headers) : undefined });
        agent.onRemoteConfig = (m, at) => noteConfig(agent, m.remote_config?.config_hash?.toString('hex'), at);
        const t0 = performance.now();
        // a refused or failed enrolment is retried as an agent would (jittered backoff, 5 attempts)
        for (let attempt = 1; ; attempt++) {
          try {
            await enrol(agent);
            connectMs.push(performance.now() - t0);
            agents.push(agent);
            uids.push(agent.uid.toString('hex'));
            agent.ws!.on('close', () => {
              if (!stormArmed) lostSessions++;
            });
            if (heartbeatMs > 0) startHeartbeats(agent, heartbeatMs);
            break;
          } catch (error) {
            agent.ws?.terminate();
            retried++;
            firstError ??= String(error);
            if (attempt === 5) {
              failed++;
              break;
            }
            await sleep(500 * attempt * (0.5 + Math.random()));
          }
        }
      }
    }),
  );
  send({ event: 'connected', connected: uids.length, failed, retried, firstError, connectMs, uids, elapsedMs: Date.now() - started });
}

/** Closed loop in `windows` consecutive windows: frames answered per window (the heartbeat timers pause). */
async function closedLoop(windows: number, windowMs: number): Promise<void> {
  paused = true;
  await sleep(100);
  const frames: number[] = [];
  const seconds: number[] = [];
  for (let w = 0; w < windows; w++) {
    const deadline = Date.now() + windowMs;
    let n = 0;
    const t0 = performance.now();
    await Promise.all(
      agents.filter(isOpen).map(async (agent) => {
        while (Date.now() < deadline) {
          if ((await beat(agent, 30_000)) === undefined) return;
          n++;
        }
      }),
    );
    frames.push(n);
    seconds.push((performance.now() - t0) / 1000);
  }
  paused = false;
  send({ event: 'closed-loop', frames, seconds });
}

/** Reconnects every closed agent with a jittered backoff until it is back or the deadline passes. */
async function storm(concurrency: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const reconnectedAt: number[] = [];
  let attempts = 0;
  let refused = 0;
  let timeouts = 0;
  let firstError: string | undefined;
  /** When each failed attempt failed, and why (the first 60 characters of its error). */
  const failures: Array<[number, string]> = [];
  /** Per agent back: [back at, picked up (its old socket seen closed) at, its last attempt begun at, attempts]. */
  const timeline: Array<[number, number, number, number]> = [];
  const queue = agents.slice();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < queue.length) {
        const agent = queue[next++]!;
        // wait until the old connection is gone (the restart closes it), then come back
        while (isOpen(agent) && Date.now() < deadline) await sleep(200);
        const seenClosed = Date.now();
        let backoff = 250;
        for (let tries = 1; Date.now() < deadline; tries++) {
          attempts++;
          const begun = Date.now();
          try {
            await enrol(agent);
            reconnectedAt.push(Date.now());
            timeline.push([Date.now(), seenClosed, begun, tries]);
            break;
          } catch (error) {
            const text = String(error);
            if (/upgrade refused/.test(text)) refused++;
            else if (/in time/.test(text)) timeouts++;
            firstError ??= text;
            failures.push([Date.now(), text.slice(0, 60)]);
            agent.ws?.terminate();
            await sleep(backoff * (0.5 + Math.random()));
            backoff = Math.min(backoff * 2, 2000);
          }
        }
      }
    }),
  );
  send({ event: 'storm', reconnected: reconnectedAt.length, of: agents.length, lastAt: Math.max(0, ...reconnectedAt), reconnectedAt, timeline, failures, attempts, refused, timeouts, firstError });
}

process.on('message', (m: Command) => {
  void (async () => {
    if (m.cmd === 'connect') await connect(m.agents, m.concurrency, m.heartbeatMs);
    else if (m.cmd === 'phase') {
      phase = m.name;
      send({ event: 'phase' });
    } else if (m.cmd === 'rtts') send({ event: 'rtts', samples: rtts.get(m.name) ?? [] });
    else if (m.cmd === 'closed-loop') await closedLoop(m.windows, m.windowMs);
    else if (m.cmd === 'count') send({ event: 'count', n: firstReceipt.get(m.hash)?.at.length ?? 0 });
    else if (m.cmd === 'times') {
      const r = firstReceipt.get(m.hash);
      send({ event: 'times', times: r?.at ?? [], uids: r?.uids ?? [] });
    } else if (m.cmd === 'last-config') send({ event: 'last-config', at: Object.fromEntries(lastConfigAt) });
    else if (m.cmd === 'status') {
      const applied = agents.filter((a) => a.appliedHash).length;
      send({ event: 'status', open: agents.filter(isOpen).length, of: agents.length, lost: lostSessions, applied, status: RemoteConfigStatus.APPLIED });
    } else if (m.cmd === 'storm') {
      stormArmed = true;
      send({ event: 'storm-armed' });
      await storm(m.concurrency, m.timeoutMs);
      stormArmed = false;
    } else if (m.cmd === 'close') {
      stormArmed = true;
      for (const a of agents) a.ws?.terminate();
      send({ event: 'closed' });
      setTimeout(() => process.exit(0), 50);
    }
  })();
});
send({ event: 'ready' });
