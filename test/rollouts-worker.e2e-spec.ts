import { Client } from 'pg';
import { createTestDatabase, eventually, freePort, OtlpReceiver, RemoteConfigStatus, RunningProcess, startProcess, TestDatabase, testEnv } from '@ampora/testing';
import {
  act,
  agentDetail,
  allTargets,
  Api,
  apiClient,
  assignGroup,
  collectorYaml,
  countBy,
  createRollout,
  createStaticGroup,
  enrollAgents,
  getRollout,
  publishVersions,
  rolloutAudit,
  SimAgent,
  sleep,
  waitApplied,
  waitRollout,
  waitState,
} from './support/rollout-kit';

/**
 * The rollout engine in built worker processes (npm run build first): a worker killed mid-step and
 * another one carrying on from the rows once its lease ran out; two workers at once never running the
 * same rollout twice. The server is a process of its own; agents connect to it over WebSocket.
 */
describe('the rollout engine across worker processes', () => {
  const LEASE_SECONDS = 3;
  let db: TestDatabase;
  let pg: Client;
  let env: Record<string, string>;
  let api: Api;
  let wsUrl: string;
  let server: RunningProcess;
  let serverEnv: Record<string, string>;
  const workers: RunningProcess[] = [];
  const sims: SimAgent[] = [];
  // the processes export their spans here (rollout.tick)
  const otlp = new OtlpReceiver();

  async function startWorker(id: string): Promise<RunningProcess> {
    const worker = startProcess('worker', { ...env, AMPORA_INSTANCE_ID: id });
    workers.push(worker);
    await worker.waitFor((r) => String(r.message ?? '').startsWith('Ampora worker'), 60000);
    return worker;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await otlp.start();
    const t = testEnv(db.url, {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      AMPORA_ROLLOUT_TICK_MS: '500',
      AMPORA_ROLLOUT_LEASE_SECONDS: String(LEASE_SECONDS),
      AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
      AMPORA_AUTO_MIGRATE: 'false',
    });
    env = t.env;
    // a fixed port: the server is restarted in one test and its agents reconnect to the same URL
    serverEnv = { ...env, AMPORA_INSTANCE_ID: 'rollout-server', AMPORA_HTTP_PORT: String(await freePort()) };
    server = startProcess('server', serverEnv);
    const listening = await server.waitFor((r) => typeof r.Port === 'number', 60000);
    const url = `http://127.0.0.1:${listening.Port as number}`;
    api = apiClient(url, t.adminToken);
    wsUrl = `${url.replace('http', 'ws')}/v1/opamp`;
  }, 90000);
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    for (const w of workers) await w.stop('SIGKILL');
    await server?.stop();
    await pg?.end();
    await db?.drop();
    await otlp.stop();
  });

  async function fleet(count: number, tag: string) {
    const [v1, v2] = await publishVersions(api, [collectorYaml(`${tag}-v1`), collectorYaml(`${tag}-v2`)]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const list = await enrollAgents(api, wsUrl, count, { groupId: group.id, hostPrefix: tag });
    sims.push(...list);
    await eventually(() => list.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    return { v1: v1!, v2: v2!, group, sims: list };
  }

  /** `Rollout {RolloutId} started step {Step}` lines of one rollout, per worker. */
  const stepStarts = (worker: RunningProcess, id: string) => worker.records.filter((r) => r.RolloutId === id && String(r.message ?? '').includes('started step')).map((r) => Number(r.Step));

  const completedTransitions = async (id: string) => (await rolloutAudit(api, id)).filter((e) => /(^|\.)Completed$/.test(e.action));

  it('carries on from the rows when the worker driving a rollout is killed mid-step', async () => {
    const first = await startWorker('rollout-worker-a');
    const { v2, group, sims: fleet12 } = await fleet(12, 'kill');
    // agents take 1.5 s to apply: a step stays open long enough to kill the worker inside it
    for (const s of fleet12) s.delayMs = 1500;
    const mark = Date.now();
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Batch', batchSize: 4 },
      autoAdvance: true,
      dwellSeconds: 1,
    });
    await act(api, created.id, 'start');
    const inStep1 = await waitRollout(api, created.id, (r) => r.currentStep === 1 && r.targets.some((t) => t.step === 1 && t.pushedAt !== null), 30000, 'step 1 pushed');
    expect(inStep1.steps[0]).toMatchObject({ counts: { total: 4, applied: 4 } });
    expect(await first.stop('SIGKILL')).toBe(-1);
    const atKill = await getRollout(api, created.id);

    // with no worker the rollout does not move on (the agents of step 1 apply meanwhile)
    await sleep(LEASE_SECONDS * 1000 + 500);
    const idle = await getRollout(api, created.id);
    expect(idle).toMatchObject({ state: 'InProgress', currentStep: 1 });
    expect(idle.steps.length).toBe(atKill.steps.length);
    expect(idle.targets.filter((t) => t.step === 2)).toEqual([]);

    const second = await startWorker('rollout-worker-b');
    const done = await waitState(api, created.id, 'Completed', 40000);
    expect(done.steps.map((s) => s.counts.total)).toEqual([4, 4, 4]);
    expect(done.counts).toMatchObject({ total: 12, applied: 12, failed: 0, skipped: 0 });
    const targets = await allTargets(api, created.id);
    expect(countBy(targets, (t) => t.step)).toEqual({ 0: 4, 1: 4, 2: 4 });
    expect(new Set(targets.map((t) => t.agentId))).toEqual(new Set(fleet12.map((s) => s.id)));
    for (const s of fleet12) {
      // a push in flight at the kill may be repeated by the next worker, but nobody is left out or sent anything else
      const pushes = s.pushesSince(mark);
      expect(pushes.length).toBeGreaterThanOrEqual(1);
      expect(new Set(pushes.map((p) => p.hash))).toEqual(new Set([v2.configHash]));
    }
    await waitApplied(api, fleet12.map((s) => s.id), v2.configHash);
    // step 2 was started only by the second worker: exactly one push each
    for (const t of targets.filter((x) => x.step === 2)) expect(fleet12.find((s) => s.id === t.agentId)!.pushesSince(mark)).toHaveLength(1);
    expect(await completedTransitions(created.id)).toHaveLength(1);
    expect(second.records.find((r) => r.RolloutId === created.id && r.State === 'Completed')).toBeDefined();
    // the killed worker started steps 0 and 1, the second one step 2 only
    expect(stepStarts(first, created.id)).toEqual([0, 1]);
    expect(stepStarts(second, created.id)).toEqual([2]);
    const { rows } = await pg.query<{ assigned_version_id: string | null }>('SELECT assigned_version_id FROM groups WHERE id = $1', [group.id]);
    expect(rows[0]!.assigned_version_id).toBe(v2.id);
  }, 120000);

  it('never advances the same rollout twice with two workers running', async () => {
    // the worker of the previous test is still running; a second one joins it
    if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await startWorker('rollout-worker-b2');
    await startWorker('rollout-worker-c');
    const { v2, group, sims: fleet12 } = await fleet(12, 'twin');
    fleet12.forEach((s, i) => (s.delayMs = (i * 37) % 250));
    const mark = Date.now();
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Batch', batchSize: 2 },
      autoAdvance: true,
      dwellSeconds: 0,
    });
    await act(api, created.id, 'start');
    const done = await waitState(api, created.id, 'Completed', 60000);
    // a little longer: a second worker advancing it again would show now
    await sleep(1500);
    const after = await getRollout(api, created.id);
    expect(after.state).toBe('Completed');
    expect(after.steps.map((s) => s.counts.total)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(after.counts).toMatchObject({ total: 12, applied: 12, failed: 0, skipped: 0 });
    expect(after.currentStep).toBe(done.currentStep);

    const targets = await allTargets(api, created.id);
    expect(targets).toHaveLength(12);
    expect(countBy(targets, (t) => t.step)).toEqual({ 0: 2, 1: 2, 2: 2, 3: 2, 4: 2, 5: 2 });
    expect(new Set(targets.map((t) => t.agentId)).size).toBe(12);
    const { rows } = await pg.query<{ step: number; agents: string[] }>('SELECT step, array_agg(agent_id::text) AS agents FROM rollout_targets WHERE rollout_id = $1 GROUP BY step ORDER BY step', [created.id]);
    expect(rows.map((r) => r.step)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(new Set(rows.flatMap((r) => r.agents)).size).toBe(12);
    // every agent got exactly one push, of the new version
    for (const s of fleet12) expect(s.pushesSince(mark).map((p) => p.hash)).toEqual([v2.configHash]);
    // the steps ran one after the other
    for (let i = 0; i < 5; i++) expect(Date.parse(after.steps[i + 1]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(after.steps[i]!.settledAt!));

    const audit = await rolloutAudit(api, created.id);
    expect(audit.filter((e) => /(^|\.)Completed$/.test(e.action))).toHaveLength(1);
    expect(audit.filter((e) => /(^|\.)InProgress$/.test(e.action))).toHaveLength(1);
    // across both workers, each step was started once
    expect(workers.flatMap((w) => stepStarts(w, created.id)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    // both workers are still alive
    expect(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null).length).toBeGreaterThanOrEqual(2);
    // every tick is a rollout.tick span with the rollout and its state
    const ticks = await eventually(() => {
      const found = otlp.spans.filter((x) => x.name === 'rollout.tick' && x.attributes['rollout.id'] === created.id);
      return found.length > 0 ? found : undefined;
    }, 20000);
    expect(new Set(ticks.map((x) => x.attributes.state))).toContain('InProgress');
    expect(new Set(ticks.map((x) => x.resource['service.name']))).toEqual(new Set(['ampora-worker']));
  }, 120000);
  it('survives a server restart mid-step: agents reconnect and the rollout completes', async () => {
    if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await startWorker('rollout-worker-d');
    const { v2, group, sims: fleet8 } = await fleet(8, 'srv');
    for (const s of fleet8) s.delayMs = 1500;
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Batch', batchSize: 4 },
      autoAdvance: true,
      dwellSeconds: 0,
    });
    await act(api, created.id, 'start');
    await waitRollout(api, created.id, (r) => r.currentStep === 0 && r.targets.some((t) => t.step === 0 && t.pushedAt !== null), 30000, 'step 0 pushed');

    // the server goes away without a goodbye while step 0's agents are still applying
    expect(await server.stop('SIGKILL')).toBe(-1);
    server = startProcess('server', serverEnv);
    await server.waitFor((r) => typeof r.Port === 'number', 60000);
    for (const s of fleet8) {
      await s.agent.closed(10000).catch(() => s.agent.ws?.terminate());
      await s.agent.connect();
      // a collector reports what it runs when it comes back
      const applied = s.agent.appliedHash;
      s.agent.hello(applied ? { remote_config_status: { status: RemoteConfigStatus.APPLIED, last_remote_config_hash: applied } } : {});
    }

    const done = await waitState(api, created.id, 'Completed', 60000);
    expect(done.steps.map((s) => s.counts.total)).toEqual([4, 4]);
    expect(done.counts).toMatchObject({ total: 8, applied: 8, failed: 0, skipped: 0 });
    for (const s of fleet8) {
      await eventually(async () => (await agentDetail(api, s.id)).remoteConfig?.hash === v2.configHash, 20000);
      expect(s.agent.appliedHash?.toString('hex')).toBe(v2.configHash);
    }
    expect(await completedTransitions(created.id)).toHaveLength(1);
  }, 150000);
  it('leaves a rollout alone while another worker holds its lease, and takes over when the lease runs out', async () => {
    if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await startWorker('rollout-worker-e');
    const { v2, group } = await fleet(4, 'lease');
    const created = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] } });
    // another (imaginary) worker owns the rollout for 4 s
    await pg.query(`UPDATE rollouts SET engine_owner = 'elsewhere/1', engine_lease_until = now() + interval '4 seconds' WHERE id = $1`, [created.id]);
    await act(api, created.id, 'start');
    await sleep(2500);
    expect(await getRollout(api, created.id)).toMatchObject({ state: 'InProgress', currentStep: null });
    const done = await waitState(api, created.id, 'Completed', 30000);
    expect(done.counts).toMatchObject({ total: 4, applied: 4 });
  }, 60000);
});
