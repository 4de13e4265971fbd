/**
 * A client process of the benchmark: holds up to 15,000 simulated WebSocket agents and drives them
 * on command from the coordinator (IPC messages). Uses the test agent's independent protobufjs codec.
 */
import { randomBytes } from 'node:crypto';
import { RemoteConfigStatus, TestAgent } from '@ampora/testing';

type Command =
  | { cmd: 'connect'; url: string; tokens: string[]; concurrency: number }
  | { cmd: 'heartbeat'; durationMs: number }
  | { cmd: 'collect-configs' }
  | { cmd: 'close' };

const agents: TestAgent[] = [];
const configAt = new Map<string, number>();
const send = (m: unknown) => process.send!(m);

async function connect(url: string, tokens: string[], concurrency: number): Promise<void> {
  const connectMs: number[] = [];
  let failed = 0;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      const agent = new TestAgent({ url, token: token || undefined, instanceUid: randomBytes(16), autoApply: true });
      agent.onRemoteConfig = (_m, at) => configAt.set(agent.uid.toString('hex'), at);
      const t0 = performance.now();
      try {
        await agent.connect();
        agent.hello();
        const reply = await agent.next(60_000);
        if (reply.error_response) throw new Error(reply.error_response.error_message);
        connectMs.push(performance.now() - t0);
        agents.push(agent);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  send({ event: 'connected', connected: agents.length, failed, connectMs, elapsedMs: Date.now() - started, uids: agents.map((a) => a.uid.toString('hex')) });
}

/** Closed loop: every agent sends a heartbeat, waits for the answer, sends the next one. */
async function heartbeat(durationMs: number): Promise<void> {
  const deadline = Date.now() + durationMs;
  let frames = 0;
  const started = performance.now();
  await Promise.all(
    agents.map(async (agent) => {
      while (Date.now() < deadline) {
        agent.heartbeat();
        const reply = await agent.next(30_000).catch(() => undefined);
        if (!reply) return;
        frames++;
      }
    }),
  );
  send({ event: 'heartbeats', frames, seconds: (performance.now() - started) / 1000 });
}

process.on('message', (m: Command) => {
  void (async () => {
    if (m.cmd === 'connect') await connect(m.url, m.tokens, m.concurrency);
    else if (m.cmd === 'heartbeat') await heartbeat(m.durationMs);
    else if (m.cmd === 'collect-configs') {
      const applied = agents.filter((a) => a.appliedHash).length;
      send({ event: 'configs', received: Object.fromEntries(configAt), applied, status: RemoteConfigStatus.APPLIED });
    } else if (m.cmd === 'close') {
      for (const a of agents) a.ws?.terminate();
      send({ event: 'closed' });
      setTimeout(() => process.exit(0), 50);
    }
  })();
});
send({ event: 'ready' });
