/**
 * npm run demo — on top of a running Ampora: a handful of simulated agents (three with the real
 * @elastic/opamp-client-node over HTTP, three over WebSocket) enrol, a configuration is published and
 * assigned, a second version is rolled out in two canary steps, and the metrics are shown. It stops by
 * itself within about a minute and leaves the demo's group and configuration behind to look at.
 *
 *   AMPORA_TOKEN=amp-pat.... npm run demo -- [--url http://localhost:4320]
 */
import { randomBytes } from 'node:crypto';
import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { TestAgent } from '@ampora/testing';

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const BASE = (arg('url') ?? process.env.AMPORA_URL ?? 'http://localhost:4320').replace(/\/+$/, '');
const TOKEN = arg('token') ?? process.env.AMPORA_TOKEN;
const TAG = randomBytes(2).toString('hex');

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(300);
  }
}

const config = (version: number) => `# demo collector, version ${version}
receivers:
  otlp:
    protocols:
      grpc: {}
processors:
  batch:
    timeout: ${version}s
exporters:
  debug:
    verbosity: ${version === 1 ? 'basic' : 'detailed'}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
`;

async function main(): Promise<number> {
  if (!TOKEN) {
    say('The demo talks to a running Ampora as an operator. Start Ampora (npm start prints a token on its');
    say('first run), then: AMPORA_TOKEN=amp-pat.... npm run demo -- [--url http://localhost:4320]');
    return 64;
  }
  const ready = await fetch(`${BASE}/health/ready`).catch(() => undefined);
  if (!ready?.ok) {
    say(`No Ampora answers at ${BASE}/health/ready: start it with npm start (or pass --url).`);
    return 69;
  }
  say(`Ampora demo against ${BASE}`);

  // 1. a group, and one bootstrap token per agent that lands it there
  const group = await api('POST', '/api/groups', { name: `demo-${TAG}`, kind: 'Static' });
  const token = async (label: string) => (await api('POST', '/api/bootstrap-tokens', { label, groupId: group.id, labels: { demo: TAG }, ttlMinutes: 15 })).token as string;
  say(`• group demo-${TAG} created`);

  // 2. six agents: three real HTTP clients, three WebSocket agents
  const clients: Array<ReturnType<typeof createOpAMPClient>> = [];
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  for (let i = 1; i <= 3; i++) {
    const client = createOpAMPClient({
      endpoint: `${BASE}/v1/opamp`,
      headers: { authorization: `Bearer ${await token(`demo http ${i}`)}` },
      heartbeatIntervalSeconds: 1,
      capabilities: BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as unknown as bigint) | BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as unknown as bigint),
      onMessage: ({ remoteConfig }: { remoteConfig?: { configHash: Uint8Array } }) => {
        if (remoteConfig) client.setRemoteConfigStatus({ status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, lastRemoteConfigHash: remoteConfig.configHash });
      },
      log: quiet,
    } as never);
    client.setAgentDescription({ identifyingAttributes: { 'service.name': 'demo-sdk', 'service.version': '1.0.0' }, nonIdentifyingAttributes: { 'host.name': `demo-http-${i}` } });
    client.start();
    clients.push(client);
  }
  const agents: TestAgent[] = [];
  for (let i = 1; i <= 3; i++) {
    const agent = new TestAgent({ url: `${BASE.replace(/^http/, 'ws')}/v1/opamp`, token: await token(`demo ws ${i}`), autoApply: true, reportEffective: true, nonIdentifying: { 'host.name': `demo-ws-${i}` } });
    await agent.connect();
    agent.hello();
    await agent.next();
    agents.push(agent);
  }
  const members = await until('six agents in the group', async () => {
    const page = await api(`GET`, `/api/agents?groupId=${group.id}&limit=50`);
    // descriptions reach the inventory with the next batched write
    return page.items.length === 6 && page.items.every((a: { displayName: string }) => a.displayName) ? page.items : undefined;
  });
  say(`• 6 agents connected: ${members.map((a: { displayName: string }) => a.displayName).sort().join(', ')}`);

  try {
    // 3. a configuration with two published versions
    const configuration = await api('POST', '/api/configurations', { name: `demo-collector-${TAG}`, description: 'made by npm run demo' });
    for (const n of [1, 2]) {
      const version = await api('POST', `/api/configurations/${configuration.id}/versions`, { yaml: config(n) });
      await api('POST', `/api/configurations/${configuration.id}/versions/${version.number}/publish`);
    }
    const diff = await api('GET', `/api/configurations/${configuration.id}/versions/compare?from=1&to=2`);
    say(`• configuration demo-collector-${TAG}: versions 1 and 2 published; 1 → 2: ${((diff.semantic ?? []) as Array<{ summary: string }>).map((c) => c.summary).join('; ') || 'changed'}`);

    // 4. version 1 for the whole group
    await api('PUT', `/api/groups/${group.id}/assignment`, { configurationId: configuration.id, version: 1 });
    await until('version 1 applied everywhere', async () => {
      const page = await api('GET', `/api/agents?groupId=${group.id}&limit=50`);
      return page.items.every((a: { remoteConfigStatus: string | null }) => a.remoteConfigStatus === 'APPLIED') ? true : undefined;
    });
    say('• version 1 assigned to the group: APPLIED by all six agents');

    // 5. version 2 in two canary steps
    const rollout = await api('POST', '/api/rollouts', {
      name: `demo-${TAG}`,
      configurationId: configuration.id,
      version: 2,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 34, dwellSeconds: 5 }, { percent: 100, dwellSeconds: 0 }] },
      ordering: 'hostname',
    });
    await api('POST', `/api/rollouts/${rollout.id}/start`);
    // steps are counted from 0, as the API counts them (currentStep, rollout.step_started)
    say(`• rollout demo-${TAG} started: step 0 canary 34 % (dwell 5 s), then step 1 100 %`);
    let last = '';
    const done = await until(
      'the rollout to finish',
      async () => {
        const r = await api('GET', `/api/rollouts/${rollout.id}`);
        const line = `  ${r.state}${r.currentStep !== undefined && r.currentStep !== null ? `, step ${r.currentStep} of steps 0–${Number(r.stepCount) - 1}` : ''}`;
        if (line !== last) say((last = line));
        return ['Completed', 'Failed', 'Paused', 'RolledBack'].includes(r.state) ? r : undefined;
      },
      90_000,
    );
    say(`• rollout ${done.state}`);

    // 6. what an operator sees
    const page = await api('GET', `/api/agents?groupId=${group.id}&limit=50`);
    say('\n  agent            status      config     drift');
    for (const a of page.items.sort((x: { displayName: string }, y: { displayName: string }) => x.displayName.localeCompare(y.displayName))) {
      say(`  ${a.displayName.padEnd(16)} ${a.status.padEnd(11)} ${String(a.remoteConfigStatus).padEnd(10)} ${a.drift === null ? '-' : a.drift}`);
    }
    const metrics = await (await fetch(`${BASE}/metrics`)).text();
    say('\n  from /metrics:');
    for (const line of metrics.split('\n')) {
      if (/^ampora_(opamp_active_sessions|opamp_apply_duration_seconds_count|rollout_state_transitions_total|opamp_bootstrap_redemptions_total)\{/.test(line)) say(`  ${line}`);
    }
    say(`\nExplore: ${BASE}/docs, GET /api/rollouts/${rollout.id}, GET /api/audit/events, GET /api/live (SSE).`);
    return 0;
  } finally {
    for (const c of clients) await c.shutdown().catch(() => undefined);
    for (const a of agents) await a.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
