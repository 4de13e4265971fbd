// A client process of the backplane benchmark: holds some of the simulated agents (WebSocket) and
// reports to the parent, over IPC, when each pushed config arrived (wall clock, sub-millisecond).
import { TestAgent } from '../../libs/testing/src/opamp-test-agent';

interface StartMessage {
  type: 'start';
  agents: Array<{ url: string; token: string }>;
}

const now = () => performance.timeOrigin + performance.now();
const held: TestAgent[] = [];

async function start(message: StartMessage): Promise<void> {
  for (const spec of message.agents) {
    const agent = new TestAgent({ url: spec.url, token: spec.token, autoApply: true });
    agent.onRemoteConfig = (s2a) => {
      const at = now();
      const file = Object.values(s2a.remote_config?.config?.config_map ?? {})[0];
      const marker = /# push (\d+)/.exec(file?.body ? Buffer.from(file.body).toString('utf8') : '');
      if (marker) process.send!({ type: 'received', push: Number(marker[1]), at });
    };
    await agent.connect();
    agent.hello();
    await agent.next(15000);
    held.push(agent);
  }
  // drain replies the test agents queued (nobody reads them here)
  setInterval(() => held.forEach((a) => a.received.splice(0)), 1000).unref();
  process.send!({ type: 'ready', uids: held.map((a) => a.uid.toString('hex')) });
}

process.on('message', (message: StartMessage | { type: 'stop' }) => {
  if (message.type === 'start') {
    start(message).catch((error: unknown) => {
      process.send!({ type: 'error', error: String(error) });
    });
  } else {
    void Promise.all(held.map((a) => a.close())).then(() => process.exit(0));
  }
});
