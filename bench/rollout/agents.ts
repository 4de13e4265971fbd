/**
 * A client process of bench/rollout (after bench/opamp-sessions/swarm.ts): holds up to 15,000
 * simulated WebSocket agents with known instance uids and bootstrap tokens already bound to them, and
 * drives them on command from the coordinator (IPC messages). Every agent answers a remote config at
 * once with RemoteConfigStatus APPLIED for the pushed hash (the test agent's `autoApply`), and the
 * process notes, per config hash, when each agent first received it (the APPLIED status leaves in the
 * same tick).
 */
import { RemoteConfigStatus, TestAgent } from '@ampora/testing';

type Command =
  | { cmd: 'connect'; url: string; agents: Array<{ uid: string; token: string }>; concurrency: number }
  | { cmd: 'count'; hash: string }
  | { cmd: 'times'; hash: string }
  | { cmd: 'close' };

const agents: TestAgent[] = [];
/** config hash (hex) → first-receipt times (ms since the epoch) and the agents' uids (hex), one per agent. */
const firstReceipt = new Map<string, { at: number[]; uids: string[] }>();
/** The config hashes each agent has received. */
const seen = new Map<TestAgent, Set<string>>();
const send = (m: unknown) => process.send!(m);

function noteConfig(agent: TestAgent, hash: string | undefined, at: number): void {
  if (!hash) return;
  let hashes = seen.get(agent);
  if (!hashes) seen.set(agent, (hashes = new Set()));
  if (hashes.has(hash)) return;
  hashes.add(hash);
  let times = firstReceipt.get(hash);
  if (!times) firstReceipt.set(hash, (times = { at: [], uids: [] }));
  times.at.push(at);
  times.uids.push(agent.uid.toString('hex'));
}

async function connect(url: string, list: Array<{ uid: string; token: string }>, concurrency: number): Promise<void> {
  const connectMs: number[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < list.length) {
      const { uid, token } = list[next++]!;
      const agent = new TestAgent({ url, token, instanceUid: Buffer.from(uid.replace(/-/g, ''), 'hex'), autoApply: true });
      agent.onRemoteConfig = (m, at) => noteConfig(agent, m.remote_config?.config_hash?.toString('hex'), at);
      const t0 = performance.now();
      try {
        await agent.connect();
        agent.hello();
        const reply = await agent.next(60_000);
        if (reply.error_response) throw new Error(reply.error_response.error_message);
        connectMs.push(performance.now() - t0);
        agents.push(agent);
      } catch (error) {
        failed++;
        firstError ??= String(error);
        agent.ws?.terminate();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  send({ event: 'connected', connected: agents.length, failed, firstError, connectMs, elapsedMs: Date.now() - started });
}

// the test agent keeps every message nobody waits for: drop them, nothing here reads them
setInterval(() => {
  for (const a of agents) a.received.splice(0);
}, 2000).unref();

process.on('message', (m: Command) => {
  void (async () => {
    if (m.cmd === 'connect') await connect(m.url, m.agents, m.concurrency);
    else if (m.cmd === 'count') {
      const closed = agents.filter((a) => a.closeCode !== undefined).length;
      send({ event: 'count', n: firstReceipt.get(m.hash)?.at.length ?? 0, closed });
    } else if (m.cmd === 'times') {
      const applied = agents.filter((a) => a.appliedHash?.toString('hex') === m.hash).length;
      const r = firstReceipt.get(m.hash);
      send({ event: 'times', times: r?.at ?? [], uids: r?.uids ?? [], applied, status: RemoteConfigStatus.APPLIED });
    } else if (m.cmd === 'close') {
      for (const a of agents) a.ws?.terminate();
      send({ event: 'closed' });
      setTimeout(() => process.exit(0), 50);
    }
  })();
});
send({ event: 'ready' });
