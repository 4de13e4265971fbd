/**
 * A child process of the shutdown tests: holds a few thousand simulated WebSocket agents (the
 * protobufjs test agent) so their sockets and CPU stay out of the test runner. Driven over IPC.
 */
import { randomBytes } from 'node:crypto';
import { TestAgent } from '@ampora/testing';

type Command =
  | { cmd: 'connect'; url: string; tokens: string[]; concurrency: number }
  | { cmd: 'report'; marker: string }
  | { cmd: 'disconnect'; count: number }
  | { cmd: 'closed'; timeoutMs: number }
  | { cmd: 'exit' };

const agents: TestAgent[] = [];
const send = (m: unknown) => process.send!(m);

async function connect(url: string, tokens: string[], concurrency: number): Promise<void> {
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tokens.length) {
        const agent = new TestAgent({ url, token: tokens[next++]!, instanceUid: randomBytes(16) });
        try {
          await agent.connect();
          agent.hello();
          const reply = await agent.next(60_000);
          if (reply.error_response) throw new Error(reply.error_response.error_message);
          agents.push(agent);
        } catch {
          failed++;
        }
      }
    }),
  );
  send({ event: 'connected', connected: agents.length, failed });
}

/** Every agent reports a new description carrying `marker` and waits for the server's answer. */
async function report(marker: string): Promise<void> {
  let answered = 0;
  await Promise.all(
    agents.map(async (agent) => {
      agent.send({
        agent_description: {
          identifying_attributes: [{ key: 'service.name', value: { string_value: 'io.opentelemetry.collector' } }],
          non_identifying_attributes: [{ key: 'marker', value: { string_value: `${marker}-${agent.uid.toString('hex')}` } }],
        },
      });
      if (await agent.next(60_000).then(() => true, () => false)) answered++;
    }),
  );
  send({ event: 'reported', answered, uids: agents.map((a) => a.uid.toString('hex')) });
}

process.on('message', (m: Command) => {
  void (async () => {
    if (m.cmd === 'connect') await connect(m.url, m.tokens, m.concurrency);
    else if (m.cmd === 'report') await report(m.marker);
    else if (m.cmd === 'disconnect') {
      // agents that leave on their own, just before the server is told to stop
      await Promise.all(agents.slice(0, m.count).map((a) => a.close()));
      send({ event: 'disconnected', count: Math.min(m.count, agents.length) });
    } else if (m.cmd === 'closed') {
      const codes: Record<string, number> = {};
      await Promise.all(
        agents.map(async (a) => {
          const code = await a.closed(m.timeoutMs).catch(() => -1);
          codes[code] = (codes[code] ?? 0) + 1;
        }),
      );
      send({ event: 'closed', codes });
    } else if (m.cmd === 'exit') {
      for (const a of agents) a.ws?.terminate();
      setTimeout(() => process.exit(0), 50);
    }
  })();
});
send({ event: 'ready' });
