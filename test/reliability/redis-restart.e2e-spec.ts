import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, openssl, RunningProcess, S2A, scratch, startProcess, TestAgent } from '@ampora/testing';
import { act, allTargets, apiClient, assignGroup, collectorYaml, createRollout, createStaticGroup, enrollAgents, rolloutAudit, SimAgent, waitRollout } from '../support/rollout-kit';
import { Figures, FULL, scaled } from './support/figures';
import { PrivateRedis } from './support/private-redis';
import { bootstrapTokens, callApi, Deployment, processOutput, ServerProcess, startDeployment } from './support/server-process';
import { secretsInOutput } from './support/secrets';

/**
 * Issue 16 §3, Redis restarted under load: two instances share a redis-server of the test's own
 * (backplane and queues); agents are on instance A, operators write through B. Redis is stopped for a
 * while and started again: readiness must say 503 while it is away and 200 after, no REST write may
 * be answered 500, neither process may crash, and afterwards a push through B must cross the
 * backplane to every agent on A exactly once.
 */
const OUTAGE_MS = scaled(15_000, 5_000);
const AGENTS = scaled(50, 10);
const JOB_AGENTS = scaled(30, 9);

const MARK = '# after the Redis restart';
const isPush = (m: S2A) => Object.values(m.remote_config?.config?.config_map ?? {}).some((f) => f.body && Buffer.from(f.body).toString('utf8').includes(MARK));

describe('reliability: Redis restarted', () => {
  jest.setTimeout(FULL ? 300_000 : 240_000);
  const redis = new PrivateRedis();
  let deployment: Deployment | undefined;
  let worker: RunningProcess | undefined;
  const sims: SimAgent[] = [];
  const figures = new Figures('redis-restart');

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close().catch(() => undefined)));
    await worker?.stop('SIGKILL');
    for (const s of deployment?.instances ?? []) figures.exact(`secrets in the log of ${s.env.AMPORA_INSTANCE_ID}`, `${s.output().length} lines`, 0, secretsInOutput(s.output(), [deployment!.adminToken, s.env.AMPORA_MASTER_KEY!]).length);
    if (worker && deployment) {
      const lines = processOutput(worker);
      figures.exact('secrets in the log of the worker', `${lines.length} lines`, 0, secretsInOutput(lines, [deployment.adminToken, deployment.instances[0]!.env.AMPORA_MASTER_KEY!]).length);
    }
    figures.publish();
    await deployment?.stop();
    await redis.close();
  });

  it('readiness 503 then 200, no 500, no crash, and the backplane delivers again', async () => {
    await redis.start();
    deployment = await startDeployment(['redis-a', 'redis-b'], { REDIS_URL: redis.url });
    const [a, b] = deployment.instances as [ServerProcess, ServerProcess];
    const tokens = await bootstrapTokens(a, AGENTS, 'redis');
    const agents: TestAgent[] = [];
    const copies = new Map<TestAgent, number>();
    for (const token of tokens) {
      const agent = new TestAgent({ url: a.wsUrl, token });
      copies.set(agent, 0);
      agent.onRemoteConfig = (m) => void (isPush(m) && copies.set(agent, copies.get(agent)! + 1));
      await agent.connect();
      agent.ws!.on('error', () => undefined);
      agent.hello();
      await agent.next(10_000);
      agents.push(agent);
    }
    const ids = await eventually(async () => {
      const items = (await deployment!.api(b, 'GET', '/api/agents?limit=500')).body.items as Array<{ id: string; status: string }> | undefined;
      return items && items.filter((i) => i.status === 'connected').length === AGENTS ? items.map((i) => i.id) : undefined;
    }, 30_000);

    const statuses: Record<string, number> = {};
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        const res = await callApi(b.base, 'POST', '/api/configurations', { name: `redis-${n++}` }, deployment!.adminToken).catch(() => ({ status: 0 }));
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const ready = async (s: ServerProcess) => (await fetch(`${s.base}/health/ready`).catch(() => ({ status: 0 }))).status;
    await redis.stop();
    const downAt = Date.now();
    let unready = 0;
    while (Date.now() - downAt < OUTAGE_MS) {
      if ((await ready(a)) === 503 && (await ready(b)) === 503) unready++;
      await new Promise((r) => setTimeout(r, 250));
    }
    await redis.start();
    const upAt = Date.now();
    let readyAfterMs = Infinity;
    while (Date.now() - upAt < 60_000) {
      if ((await ready(a)) === 200 && (await ready(b)) === 200) {
        readyAfterMs = Date.now() - upAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    writing = false;
    await writer;

    const answers: Record<string, number> = {};
    for (const id of ids) {
      const res = await deployment.api(b, 'POST', `/api/agents/${id}/assign`, { yaml: `receivers:\n  otlp: {}\n${MARK}\n` });
      const key = String(res.body.delivery ?? res.status);
      answers[key] = (answers[key] ?? 0) + 1;
    }
    await eventually(() => agents.every((x) => copies.get(x)! >= 1) || undefined, 15_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all(agents.map((x) => x.close()));

    const sent = `Redis (private, append-only) stopped ${OUTAGE_MS / 1000} s; REST writes through redis-b: ${JSON.stringify(statuses)}`;
    figures.exact('readiness of both instances never 503 while Redis was away', `polled every 250 ms for ${OUTAGE_MS / 1000} s`, 0, unready > 0 ? 0 : 1);
    figures.atMost('seconds until both instances are ready after Redis came back', 'polled every 250 ms', 60, readyAfterMs / 1000, ' s');
    figures.exact('REST writes answered 500', sent, 0, statuses['500'] ?? 0);
    figures.exact('server process crashes (exit)', sent, 0, [a, b].filter((s) => !s.alive()).length);
    const pushSent = `${AGENTS} agents on redis-a, assignments through redis-b after the restart: ${JSON.stringify(answers)}`;
    figures.exact('agents the push did not reach', pushSent, 0, agents.filter((x) => copies.get(x) === 0).length);
    figures.exact('agents the push reached more than once', pushSent, 0, agents.filter((x) => copies.get(x)! > 1).length);
    expect(figures.failures()).toEqual([]);
  });

  it('jobs across the restart: a rollout ticking through it completes, pushing each agent once; a CRL asked for while Redis was away is published', async () => {
    const [a, b] = deployment!.instances as [ServerProcess, ServerProcess];
    // the worker of the deployment, on the same private Redis
    worker = startProcess('worker', { ...a.env, AMPORA_INSTANCE_ID: 'redis-worker', AMPORA_ROLLOUT_TICK_MS: '500' });
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 120_000);
    const api = apiClient(b.base, deployment!.adminToken);
    const configuration = (await api('POST', '/api/configurations', { name: 'redis-jobs' })).body.id as string;
    const versions = [];
    for (const tag of ['redis-v1', 'redis-v2']) {
      const n = (await api('POST', `/api/configurations/${configuration}/versions`, { yaml: collectorYaml(tag) })).body.number as number;
      const published = (await api('POST', `/api/configurations/${configuration}/versions/${n}/publish`)).body;
      versions.push({ configurationId: configuration, number: n, id: published.id as string, configHash: published.configHash as string });
    }
    const [v1, v2] = versions as [(typeof versions)[0], (typeof versions)[0]];
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1 as never);
    const fleet = await enrollAgents(api, a.wsUrl, JOB_AGENTS, { groupId: group.id, hostPrefix: 'redis-job' });
    sims.push(...fleet);
    await eventually(() => fleet.every((s) => s.agent.appliedHash?.toString('hex') === v1.configHash) || undefined, 30_000);
    for (const s of fleet) s.delayMs = 1000;
    const mark = Date.now();
    const created = await createRollout(api, { configurationId: configuration, version: v2.number, groupId: group.id, strategy: { type: 'Batch', batchSize: JOB_AGENTS / 3 }, autoAdvance: true, dwellSeconds: 1 });
    await act(api, created.id, 'start');
    await waitRollout(api, created.id, (r) => r.currentStep !== null && r.targets.some((t) => t.pushedAt !== null), 60_000, 'step 0 pushed');

    // a certificate to revoke while Redis is away (its CRL publication is a job)
    const files = scratch('ampora-redis-crl-');
    await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.key', '-out', 'k.csr', '-subj', '/CN=redis-crl'], files.dir);
    const signed = await api('POST', '/api/pki/agent-certificates', { csr: readFileSync(join(files.dir, 'k.csr'), 'utf8') });
    expect(signed.status).toBe(201);
    const serial = normalSerial(signed.body.serialNumber as string);

    await redis.stop();
    const revocation = api('POST', `/api/pki/certificates/${signed.body.id as string}/revoke`);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await redis.start();
    const upAt = Date.now();
    const revoked = await revocation;
    const done = await waitRollout(api, created.id, (r) => ['Completed', 'Failed', 'Paused', 'Aborted'].includes(r.state), 90_000, 'finished').catch(() => undefined);
    const completedS = done?.state === 'Completed' ? (Date.now() - upAt) / 1000 : Infinity;
    let listedS = Infinity;
    while (Date.now() - upAt < 90_000) {
      if ((await crlSerials(b.base, files.dir)).has(serial)) {
        listedS = (Date.now() - upAt) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    const targets = await allTargets(api, created.id);
    const completions = (await rolloutAudit(api, created.id)).filter((e) => /(^|\.)Completed$/.test(e.action)).length;
    const sent = `${JOB_AGENTS} agents on redis-a, a rollout in 3 batches (ticks are jobs) started before Redis stopped ${OUTAGE_MS / 1000} s`;
    figures.exact('rollouts not Completed after the restart', sent, 0, done?.state === 'Completed' ? 0 : 1);
    figures.atMost('seconds after Redis came back until the rollout completed', sent, 60, completedS, ' s');
    figures.exact('agents not running the rollout\'s version at the end', sent, 0, fleet.filter((s) => s.agent.appliedHash?.toString('hex') !== v2.configHash).length);
    figures.exact('agents pushed the rollout\'s config other than once', sent, 0, fleet.filter((s) => s.pushesSince(mark, v2.configHash).length !== 1).length);
    figures.exact('rollout targets', sent, JOB_AGENTS, targets.length);
    figures.exact('Completed transitions in the audit', sent, 1, completions);
    const crlSent = `a certificate revoked while Redis was away (answered ${revoked.status})`;
    figures.exact('revocations while Redis was away not in the CRL after it came back', crlSent, 0, listedS === Infinity ? 1 : 0);
    figures.atMost('seconds after Redis came back until the CRL listed it', crlSent, 60, listedS, ' s');
    figures.exact('server and worker crashes (exit)', sent, 0, [a, b].filter((s) => !s.alive()).length + (worker.child.exitCode === null && worker.child.signalCode === null ? 0 : 1));
    expect(figures.failures()).toEqual([]);
  });
});

function normalSerial(serial: string): string {
  return serial.replace(/[^0-9a-fA-F]/g, '').toUpperCase().replace(/^0+/, '');
}

/** The serials the server's CRL lists (read by openssl, not by our code). */
async function crlSerials(base: string, dir: string): Promise<Set<string>> {
  const res = await fetch(`${base}/pki/crl.pem`).catch(() => undefined);
  if (!res || res.status !== 200) return new Set();
  const file = join(dir, `crl-${Date.now()}.pem`);
  writeFileSync(file, await res.text());
  const text = await openssl(['crl', '-in', file, '-noout', '-text'], dir);
  return new Set([...text.stdout.matchAll(/Serial Number:\s*([0-9A-Fa-f:]+)/g)].map((m) => normalSerial(m[1]!)));
}
