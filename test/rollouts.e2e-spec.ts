import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { captureLogs, eventually, LogCapture, metricValue, scrape } from '@ampora/testing';
import { Client } from 'pg';
import { LiveBus, PublishedLiveEvent } from '@ampora/platform';
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
  expectStatus,
  getRollout,
  NO_REMOTE_CONFIG,
  previewAgentIds,
  publishVersions,
  Rollout,
  rolloutAudit,
  SimAgent,
  sleep,
  waitRollout,
  waitApplied,
  waitState,
} from './support/rollout-kit';
import { createToken, startTestServer, TestServer } from './support/test-server';

type ElasticClient = ReturnType<typeof createOpAMPClient>;
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Rollouts end to end (decision 0080): the real server and every worker module in this process, real
 * PostgreSQL and Redis, simulated WebSocket agents (and the real Elastic HTTP client) as targets.
 */
describe('rollouts end to end', () => {
  let server: TestServer;
  let api: Api;
  let wsUrl: string;
  let logs: LogCapture;
  const sims: SimAgent[] = [];
  const clients: ElasticClient[] = [];

  beforeAll(async () => {
    logs = captureLogs('Information');
    server = await startTestServer({
      env: {
        AMPORA_ROLLOUT_TICK_MS: '300',
        AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
        AMPORA_FLEET_DISPATCH_RATE: '1000',
        // small chunks: a step's pushes take several rounds, so a pause can land between them
        AMPORA_ROLLOUT_PUSH_CONCURRENCY: '4',
        // a lease removed by a test is not noticed by the lease keeper's renewal (every TTL/3) meanwhile
        AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600',
      },
      withWorker: true,
    });
    api = apiClient(server.url, server.adminToken);
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
  });
  afterAll(async () => {
    for (const c of clients) await c.shutdown().catch(() => undefined);
    await Promise.all(sims.map((s) => s.close()));
    await server.close();
  });
  // every mutating route writes exactly one audit event (docs/DEVELOPING.md): judged per test
  let seen = 0;
  beforeEach(() => {
    seen = logs.records.length;
  });
  afterEach(() => {
    expect(logs.records.slice(seen).find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });

  async function agents(count: number, options: Parameters<typeof enrollAgents>[3]): Promise<SimAgent[]> {
    const list = await enrollAgents(api, wsUrl, count, options);
    sims.push(...list);
    return list;
  }

  /** A group running v1 with `count` agents that applied it. */
  async function fleet(count: number, tag: string, options: Partial<Parameters<typeof enrollAgents>[3]> = {}) {
    const [v1, v2] = await publishVersions(api, [collectorYaml(`${tag}-v1`), collectorYaml(`${tag}-v2`)]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const list = await agents(count, { groupId: group.id, hostPrefix: tag, ...options });
    const accepting = list.filter((_, i) => (options.capabilities?.(i) ?? 0x2) & 0x2);
    await eventually(() => accepting.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    return { v1: v1!, v2: v2!, group, sims: list };
  }

  const metric = async (name: string, labels: Record<string, string>) => metricValue(await scrape(server.url), name, labels);

  it('completes a canary over 40 agents step by step: cohorts, hashes, group assignment, audit and metrics', async () => {
    const { v2, group, sims: fleet40 } = await fleet(40, 'canary');
    const transitionsBefore = await metric('ampora_rollout_state_transitions_total', { from: 'InProgress', to: 'Completed' });
    const startsBefore = await metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'InProgress' });
    const mark = Date.now();
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 10, dwellSeconds: 1 }, { percent: 50, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
    });
    expect(created).toMatchObject({ state: 'Pending', currentStep: null, stepCount: 3 });
    // nothing is pushed before start
    await sleep(700);
    expect(fleet40.flatMap((s) => s.pushesSince(mark))).toEqual([]);

    // what the live-update bus carries about this rollout
    const events: PublishedLiveEvent[] = [];
    const unsubscribe = server.app.get(LiveBus).subscribe((e) => events.push(e), { filter: (e) => e.entityId === created.id });
    const started = await act(api, created.id, 'start');
    expect(started.state).toBe('InProgress');
    // a worker runs beside this server (withWorker): nothing to warn about
    expect((started as typeof started & { warnings?: string[] }).warnings).toEqual([]);
    // the first step runs alone: 4 agents (ceil 10 % of 40) get the version, then the dwell holds the rest back
    const first = await waitRollout(api, created.id, (r) => r.steps[0]?.settledAt != null, 20000, 'step 0 settled');
    expect(first.steps[0]).toMatchObject({ counts: { total: 4, applied: 4 } });
    const step0Ids = new Set(first.targets.filter((t) => t.step === 0).map((t) => t.agentId));
    expect(step0Ids.size).toBe(4);

    const done = await waitState(api, created.id, 'Completed', 60000);
    expect(done.currentStep).toBe(2);
    expect(done.steps.map((s) => s.counts.total)).toEqual([4, 16, 20]);
    expect(done.counts).toMatchObject({ total: 40, applied: 40, failed: 0, skipped: 0, pending: 0, applying: 0 });
    // the list says what the detail says (its counts are read for the whole page at once)
    const listed = (await api('GET', '/api/rollouts?limit=500')).body.items.find((x: Rollout) => x.id === created.id);
    const { steps: _steps, targets: _targets, targetsTruncated: _truncated, updatedAt: _updated, ...summary } = done as Rollout & { targetsTruncated: boolean };
    expect(listed).toEqual({ ...summary, updatedAt: expect.any(String) });
    const targets = await allTargets(api, created.id);
    expect(countBy(targets, (t) => t.step)).toEqual({ 0: 4, 1: 16, 2: 20 });
    expect(new Set(targets.map((t) => t.agentId))).toEqual(new Set(fleet40.map((s) => s.id)));
    expect(targets.filter((t) => t.step === 0).map((t) => t.agentId).sort()).toEqual([...step0Ids].sort());
    for (const t of targets) {
      expect(t).toMatchObject({ state: 'Applied', pushedAt: expect.any(String), appliedAt: expect.any(String), disconnectedSincePush: false });
    }

    // step by step: each step starts after the previous one settled and dwelt (1 s)
    for (const i of [0, 1]) {
      const settled = Date.parse(done.steps[i]!.settledAt!);
      const next = Date.parse(done.steps[i + 1]!.startedAt!);
      expect(next - settled).toBeGreaterThanOrEqual(900);
    }
    // and the pushes follow the steps: every push of step i came before any push of step i + 1
    const byId = new Map(fleet40.map((s) => [s.id, s]));
    const pushTimes = (step: number) => targets.filter((t) => t.step === step).map((t) => byId.get(t.agentId)!.pushesSince(mark, v2.configHash)[0]!.at);
    for (const i of [0, 1]) expect(Math.max(...pushTimes(i))).toBeLessThan(Math.min(...pushTimes(i + 1)));

    // every agent got the new version exactly once and reports its hash
    for (const s of fleet40) expect(s.pushesSince(mark).map((p) => p.hash)).toEqual([v2.configHash]);
    await waitApplied(api, fleet40.map((s) => s.id), v2.configHash);

    // completed: the group now runs the version, so later members get it
    const g = (await expectStatus(api, 'GET', `/api/groups/${group.id}`, 200)).body;
    expect(g.assignment).toMatchObject({ versionId: v2.id, version: v2.number, configurationId: v2.configurationId });
    const late = (await agents(1, { groupId: group.id, hostPrefix: 'canary-late' }))[0]!;
    await eventually(() => late.agent.appliedHash?.toString('hex') === v2.configHash, 10000);

    // audited transitions (the engine acts as system:rollout-engine) and the log line
    const audit = await rolloutAudit(api, created.id);
    expect(audit.every((e) => e.entityType === 'Rollout')).toBe(true);
    const actions = audit.map((e) => e.action);
    expect(actions.filter((a) => /(^|\.)InProgress$/.test(a))).toHaveLength(1);
    expect(actions.filter((a) => /(^|\.)Completed$/.test(a))).toHaveLength(1);
    expect(audit.find((e) => /(^|\.)Completed$/.test(e.action))!.actor).toBe('system:rollout-engine');
    expect(logs.find((r) => r.RolloutId === created.id && r.State === 'Completed' && String(r.message).includes('entered state Completed'))).toBeDefined();

    // metrics moved
    expect(await metric('ampora_rollout_state_transitions_total', { from: 'InProgress', to: 'Completed' })).toBeGreaterThanOrEqual(transitionsBefore + 1);
    expect(await metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'InProgress' })).toBeGreaterThanOrEqual(startsBefore + 1);
    expect(await metric('ampora_rollout_targets_succeeded_total', { rollout_id: created.id })).toBe(40);

    // state changes and progress went on the live-update bus
    unsubscribe();
    const changes = events.filter((e) => e.type === 'rollout.state_changed').map((e) => (e.payload as { to: string }).to);
    expect(changes).toEqual(['InProgress', 'Completed']);
    expect(events.filter((e) => e.type === 'rollout.step_started').map((e) => (e.payload as { step: number }).step)).toEqual([0, 1, 2]);
    type Counts = { applied: number; total: number };
    const progress = events.filter((e) => e.type === 'rollout.progress').map((e) => e.payload as { step: number; counts: Counts; rolloutCounts: Counts; rolloutTotal: number; stepCounts: Counts | null; stepTotal: number });
    expect(progress.length).toBeGreaterThan(0);
    expect(Math.max(...progress.map((p) => p.counts.applied))).toBe(40);
    // rollout-level numbers under rollout-level names, the step's under step names (decision 0165)
    const stepAgents = new Map(events.filter((e) => e.type === 'rollout.step_started').map((e) => [(e.payload as { step: number }).step, (e.payload as { agents: number }).agents]));
    for (const p of progress) {
      expect(p.rolloutTotal).toBe(40);
      expect(p.rolloutCounts).toEqual(p.counts);
      expect(p.stepTotal).toBe(stepAgents.get(p.step));
      expect(p.stepCounts?.total).toBe(p.stepTotal);
    }
    expect(await metric('ampora_rollout_targets_failed_total', { rollout_id: created.id })).toBe(0);
  }, 120000);

  it('pauses on apply-failed-ratio with the observed value; resume runs further steps; rollback restores v1 on touched agents only', async () => {
    const { v1, v2, group, sims: fleet20 } = await fleet(20, 'failing');
    const byId = new Map(fleet20.map((s) => [s.id, s]));
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 25, dwellSeconds: 1 }, { percent: 50, dwellSeconds: 5 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { applyFailedRatio: 0.2 },
    });
    // three of the five agents of step 0 fail to apply the new version (3/5 > 20 %)
    const cohort = previewAgentIds((await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200)).body, 0);
    expect(cohort).toHaveLength(5);
    const failing = new Set(cohort.slice(0, 3));
    for (const s of fleet20) s.decide = (hash) => (hash === v2.configHash && failing.has(s.id) ? 'fail' : 'apply');
    const firedBefore = await metric('ampora_rollout_gate_fired_total', { gate: 'apply-failed-ratio' });
    const mark = Date.now();
    await act(api, created.id, 'start');

    const paused = await waitState(api, created.id, 'Paused', 20000);
    expect(paused.currentStep).toBe(0);
    expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio', threshold: 0.2, step: 0 });
    expect(paused.gate!.observed).toBeGreaterThan(0.2);
    expect(paused.gate!.observed).toBeCloseTo(paused.gate!.numerator / paused.gate!.denominator, 5);
    expect(paused.gate!.denominator).toBeLessThanOrEqual(5);
    expect(paused.gate!.agents.length).toBe(paused.gate!.numerator);
    for (const a of paused.gate!.agents) expect(failing.has(a)).toBe(true);
    await eventually(async () => (await metric('ampora_rollout_gate_fired_total', { gate: 'apply-failed-ratio' })) >= firedBefore + 1, 5000);
    // the pause holds: no later step starts, nobody outside step 0 received the version
    await sleep(2000);
    const held = await getRollout(api, created.id);
    expect(held).toMatchObject({ state: 'Paused', currentStep: 0 });
    for (const s of fleet20.filter((x) => !cohort.includes(x.id))) expect(s.pushesSince(mark)).toEqual([]);
    const failedTargets = (await allTargets(api, created.id)).filter((t) => t.state === 'Failed');
    expect(failedTargets.length).toBeGreaterThanOrEqual(2);
    for (const t of failedTargets) {
      expect(failing.has(t.agentId)).toBe(true);
      expect(t.reason).toContain('simulated');
    }
    const pauseAudit = (await rolloutAudit(api, created.id)).find((e) => /(^|\.)Paused$/.test(e.action));
    expect(pauseAudit).toBeDefined();
    expect(pauseAudit!.actor).toBe('system:rollout-engine');
    expect(JSON.stringify(pauseAudit)).toContain('apply-failed-ratio');

    // resume: "one more step, then re-evaluate" — step 0 finishes, step 1 runs with healthy agents
    const resumed = await act(api, created.id, 'resume');
    expect(resumed.state).toBe('InProgress');
    const step1 = await waitRollout(api, created.id, (r) => r.currentStep === 1 && r.steps[1]?.settledAt != null, 20000, 'step 1 settled');
    expect(step1.state).toBe('InProgress');
    expect(step1.steps[0]).toMatchObject({ counts: { total: 5, failed: 3, applied: 2 } });
    expect(step1.steps[1]).toMatchObject({ counts: { total: 5, applied: 5, failed: 0 } });
    // step 1 dwells (5 s): extend adds to it
    const dwellUntil = Date.parse(step1.steps[1]!.dwellUntil!);
    const extended = await act(api, created.id, 'extend', { seconds: 30 });
    expect(Date.parse(extended.steps[1]!.dwellUntil!) - dwellUntil).toBe(30000);
    expect(extended).toMatchObject({ state: 'InProgress', currentStep: 1, waitingFor: 'dwell' });
    expect((await api('POST', `/api/rollouts/${created.id}/extend`, { seconds: -5 })).status).toBe(400);
    // hold it in step 1's dwell, then roll back
    expect((await act(api, created.id, 'pause')).state).toBe('Paused');
    const touched = (await allTargets(api, created.id)).filter((t) => t.pushedAt !== null && t.state !== 'Skipped');
    expect(touched).toHaveLength(10);
    const touchedIds = new Set(touched.map((t) => t.agentId));
    const untouched = fleet20.filter((s) => !touchedIds.has(s.id));
    expect(untouched).toHaveLength(10);
    for (const s of untouched) expect(s.pushesSince(mark)).toEqual([]);

    const rollbackMark = Date.now();
    await act(api, created.id, 'rollback');
    const parent = await waitState(api, created.id, 'RolledBack', 10000);
    expect(parent.rollbackId).toEqual(expect.any(String));
    let child = await getRollout(api, parent.rollbackId!);
    expect(child).toMatchObject({ kind: 'Rollback', groupId: group.id });
    expect(child.version).toBe(v1.number);
    child = await waitState(api, parent.rollbackId!, 'Completed', 40000);
    expect(child.counts).toMatchObject({ total: 10, applied: 10, failed: 0 });
    expect(new Set((await allTargets(api, child.id)).map((t) => t.agentId))).toEqual(touchedIds);

    // touched agents run v1 again (the failed ones too); the others never heard of the rollout
    for (const id of touchedIds) expect(byId.get(id)!.pushesSince(rollbackMark).map((p) => p.hash)).toEqual([v1.configHash]);
    for (const s of untouched) expect(s.pushesSince(mark)).toEqual([]);
    await waitApplied(api, fleet20.map((s) => s.id), v1.configHash);
    const g = (await expectStatus(api, 'GET', `/api/groups/${group.id}`, 200)).body;
    expect(g.assignment).toMatchObject({ versionId: v1.id });

    const actions = (await rolloutAudit(api, created.id)).map((e) => e.action.replace(/^Rollout\./, ''));
    expect(actions).toEqual(expect.arrayContaining(['InProgress', 'Paused', 'Failed', 'RolledBack']));
    expect(await metric('ampora_rollout_state_transitions_total', { from: 'Failed', to: 'RolledBack' })).toBeGreaterThanOrEqual(1);
    expect(await metric('ampora_rollout_targets_failed_total', { rollout_id: created.id })).toBe(3);
  }, 120000);

  it('a gate that fires mid-step stops the step\'s remaining pushes', async () => {
    const { v2, group, sims: fleet40 } = await fleet(40, 'midstep');
    const created = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Percentage', steps: [100] } });
    // the push order is the preview's order; the first three agents fail: at most the first two
    // chunks (8 agents) are pushed before the gate is judged, 3/8 > 20 %
    const order = previewAgentIds((await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200)).body, 0);
    expect(order).toHaveLength(40);
    for (const s of fleet40) s.decide = (hash) => (hash === v2.configHash && order.slice(0, 3).includes(s.id) ? 'fail' : 'apply');
    // hold the 9th agent's row: the engine's third chunk (agents 9-12) cannot be assigned until we let go,
    // so the step cannot finish before the gate has fired
    const pg = new Client({ connectionString: server.db.url });
    await pg.connect();
    const mark = Date.now();
    try {
      await pg.query('BEGIN');
      // NO KEY UPDATE: the step's target rows (which reference the agent) can still be inserted
      await pg.query('SELECT id FROM agents WHERE id = $1 FOR NO KEY UPDATE', [order[8]]);
      await act(api, created.id, 'start');
      const first = fleet40.find((s) => s.id === order[0])!;
      await eventually(() => first.pushesSince(mark).length > 0, 10000);
      await sleep(1000);
    } finally {
      await pg.query('ROLLBACK');
      await pg.end();
    }
    const paused = await waitState(api, created.id, 'Paused', 20000);
    expect(paused.gate).toMatchObject({ gate: 'apply-failed-ratio', step: 0 });
    // pushes in flight finish; nothing is pushed after that
    await sleep(1500);
    const reached = fleet40.filter((s) => s.pushesSince(mark, v2.configHash).length > 0);
    await sleep(1500);
    expect(fleet40.filter((s) => s.pushesSince(mark, v2.configHash).length > 0)).toHaveLength(reached.length);
    // at most the chunk that waited for the row and the one assigned beside it went out after the breach
    expect(reached.length).toBeGreaterThanOrEqual(1);
    expect(reached.length).toBeLessThanOrEqual(16);
    const targets = await allTargets(api, created.id);
    expect(targets.filter((t) => t.pushedAt !== null)).toHaveLength(reached.length);
    expect(targets.filter((t) => t.state === 'Pending' && t.pushedAt === null).length).toBe(40 - reached.length);
    for (const s of fleet40.filter((x) => !reached.includes(x))) expect((await agentDetail(api, s.id)).remoteConfig?.hash).not.toBe(v2.configHash);
  }, 90000);

  it('pauses on disconnect-ratio when agents drop the connection after the push', async () => {
    const { v2, group, sims: fleet10 } = await fleet(10, 'dropping');
    for (const s of fleet10) {
      s.delayMs = 200;
      s.decide = (hash) => (hash === v2.configHash ? 'disconnect' : 'apply');
    }
    const firedBefore = await metric('ampora_rollout_gate_fired_total', { gate: 'disconnect-ratio' });
    const mark = Date.now();
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 1 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { disconnectGraceSeconds: 1, disconnectRatio: 0.2 },
    });
    await act(api, created.id, 'start');
    const paused = await waitState(api, created.id, 'Paused', 20000);
    expect(paused.currentStep).toBe(0);
    expect(paused.gate).toMatchObject({ gate: 'disconnect-ratio', threshold: 0.2, step: 0 });
    expect(paused.gate!.observed).toBeGreaterThan(0.2);
    expect(paused.counts.disconnectedSincePush).toBeGreaterThanOrEqual(paused.gate!.numerator);
    const step0 = paused.targets.filter((t) => t.step === 0);
    expect(step0).toHaveLength(5);
    for (const a of paused.gate!.agents) expect(step0.map((t) => t.agentId)).toContain(a);
    expect(step0.filter((t) => t.disconnectedSincePush).length).toBe(paused.counts.disconnectedSincePush);
    await eventually(async () => (await metric('ampora_rollout_gate_fired_total', { gate: 'disconnect-ratio' })) >= firedBefore + 1, 5000);
    // the second step never started
    await sleep(1500);
    expect(await getRollout(api, created.id)).toMatchObject({ state: 'Paused', currentStep: 0 });
    const step0Ids = new Set(step0.map((t) => t.agentId));
    for (const s of fleet10.filter((x) => !step0Ids.has(x.id))) expect(s.pushesSince(mark)).toEqual([]);
    await act(api, created.id, 'abort');
  }, 60000);

  it('does not count a collector that restarts to apply the config (back within the grace, version applied)', async () => {
    const { v2, group, sims: fleet6 } = await fleet(6, 'restarting');
    for (const s of fleet6) {
      s.decide = (hash) => {
        if (hash !== v2.configHash) return 'apply';
        // drop the connection, come back 300 ms later with the version applied
        setTimeout(() => {
          const again = new SimAgent({ ...s.agent.opts, instanceUid: s.agent.uid });
          again.id = s.id;
          sims.push(again);
          void again.agent.connect().then(() => again.agent.hello({ remote_config_status: { status: 1, last_remote_config_hash: Buffer.from(hash, 'hex') } }));
        }, 300);
        return 'disconnect';
      };
    }
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      // step 0 dwells longer than the grace: the gates look at its restarted agents after the grace ran out
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 4 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { disconnectGraceSeconds: 1, disconnectRatio: 0.2 },
    });
    const mark = Date.now();
    await act(api, created.id, 'start');
    const dwelling = await waitRollout(api, created.id, (r) => r.steps[0]?.settledAt != null, 15000, 'step 0 settled');
    const step0 = dwelling.targets.filter((t) => t.step === 0).map((t) => t.agentId);
    expect(step0).toHaveLength(3);
    // they did drop the connection after the push
    for (const s of fleet6.filter((x) => step0.includes(x.id))) {
      expect(s.pushesSince(mark).map((p) => p.hash)).toEqual([v2.configHash]);
      expect(s.connected).toBe(false);
    }
    await sleep(2500);
    expect(await getRollout(api, created.id)).toMatchObject({ state: 'InProgress', currentStep: 0, gate: null });
    const done = await waitRollout(api, created.id, (r) => r.state === 'Completed' || r.state === 'Paused', 30000, 'Completed');
    expect(done.gate).toBeNull();
    expect(done.state).toBe('Completed');
    expect(done.counts).toMatchObject({ total: 6, applied: 6, disconnectedSincePush: 0 });
  }, 60000);

  it('an agent moved out of the group mid-rollout runs its new group\'s version, and the rollout skips it', async () => {
    const { v2, group, sims: six } = await fleet(6, 'moving');
    const [elsewhere] = await publishVersions(api, [collectorYaml('moving-elsewhere')]);
    const other = await createStaticGroup(api);
    await assignGroup(api, other.id, elsewhere!);
    const created = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 3 } });
    await act(api, created.id, 'start');
    const first = await waitRollout(api, created.id, (r) => r.steps[0]?.settledAt != null, 20000, 'step 0 settled');
    const step0 = new Set(first.targets.filter((t) => t.step === 0).map((t) => t.agentId));
    const applied = six.find((s) => step0.has(s.id))!;
    const [later, reassigned] = six.filter((s) => !step0.has(s.id)) as [SimAgent, SimAgent];
    expect((await agentDetail(api, applied.id)).assignment).toMatchObject({ source: 'rollout', versionId: v2.id });

    // an agent that already runs the rollout's version moves: it gets its new group's version
    await expectStatus(api, 'POST', `/api/agents/${applied.id}/move`, 200, { groupId: other.id });
    await eventually(() => applied.agent.appliedHash?.toString('hex') === elsewhere!.configHash, 10000);
    expect((await agentDetail(api, applied.id)).assignment).toMatchObject({ source: 'group', versionId: elsewhere!.id });

    // two agents of the next step are offline when the step starts (assigned, waiting)
    await later.close();
    await reassigned.close();
    const second = await act(api, created.id, 'advance');
    expect(second.state).toBe('InProgress');
    await waitRollout(api, created.id, (r) => [later, reassigned].every((a) => r.targets.some((t) => t.step === 1 && t.agentId === a.id)), 10000, 'step 1 planned');
    await eventually(async () => (await agentDetail(api, later.id)).assignment?.source === 'rollout' && (await agentDetail(api, reassigned.id)).assignment?.source === 'rollout', 10000);
    // one moves to another group
    await expectStatus(api, 'POST', `/api/agents/${later.id}/move`, 200, { groupId: other.id });
    expect((await agentDetail(api, later.id)).assignment).toMatchObject({ source: 'group', versionId: elsewhere!.id });
    // the other is assigned another version by an operator, then comes back: it runs that one, and
    // the rollout does not push its own version over it
    await expectStatus(api, 'POST', `/api/agents/${reassigned.id}/assign`, 200, { configurationId: elsewhere!.configurationId, version: elsewhere!.number });
    const back = Date.now();
    await reassigned.agent.connect();
    reassigned.agent.hello();
    await eventually(() => reassigned.agent.appliedHash?.toString('hex') === elsewhere!.configHash, 10000);

    // the step does not wait for them (apply timeout 600 s): they are Skipped, and the rollout completes
    const done = await waitState(api, created.id, 'Completed', 20000);
    const targets = await allTargets(api, created.id);
    expect(targets.find((t) => t.agentId === later.id)).toMatchObject({ step: 1, state: 'Skipped', reason: "the agent left the rollout's group" });
    expect(targets.find((t) => t.agentId === reassigned.id)).toMatchObject({ step: 1, state: 'Skipped', reason: expect.stringContaining("the agent's assignment changed") });
    expect(targets.find((t) => t.agentId === applied.id)).toMatchObject({ step: 0, state: 'Applied' });
    expect(done.counts).toMatchObject({ applied: 4, skipped: 2, failed: 0 });
    await sleep(700); // a few more ticks would have re-pushed
    expect(reassigned.pushesSince(back, v2.configHash)).toEqual([]);
    expect(reassigned.agent.appliedHash?.toString('hex')).toBe(elsewhere!.configHash);
    // completion gives the group the version; the moved agents keep their new group's, the reassigned one its own
    expect((await agentDetail(api, applied.id)).assignment).toMatchObject({ source: 'group', versionId: elsewhere!.id });
    expect((await agentDetail(api, later.id)).assignment).toMatchObject({ source: 'group', versionId: elsewhere!.id });
    expect((await agentDetail(api, reassigned.id)).assignment).toMatchObject({ source: 'direct', versionId: elsewhere!.id });
    for (const s of six.filter((x) => x !== applied && x !== later && x !== reassigned)) expect((await agentDetail(api, s.id)).assignment).toMatchObject({ source: 'group', versionId: v2.id });
  }, 60000);

  it('pushes again to an agent that is connected but was unreachable when its step pushed (no session lease yet)', async () => {
    const { v2, group, sims: three } = await fleet(3, 'unreachable');
    const lonely = three[0]!;
    // the agent is connected, but its session lease is gone for a while, as in the moment between an
    // agent attaching and its lease being taken: a push from the worker finds no session
    const pg = new Client({ connectionString: server.db.url });
    await pg.connect();
    try {
      const lease = (await pg.query('DELETE FROM agent_session_ownership WHERE agent_id = $1 RETURNING *', [lonely.id])).rows[0];
      expect(lease).toBeDefined();
      const mark = Date.now();
      const created = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 3 } });
      await act(api, created.id, 'start');
      const waiting = await waitRollout(api, created.id, (r) => r.targets.some((t) => t.agentId === lonely.id && t.reason !== null && t.reason.startsWith('not connected')), 10000, 'the push found no session');
      expect(waiting.targets.find((t) => t.agentId === lonely.id)).toMatchObject({ state: 'Pending', pushedAt: null });
      await sleep(1000); // several ticks: still unreachable, still waiting
      expect(lonely.pushesSince(mark, v2.configHash)).toEqual([]);
      expect((await getRollout(api, created.id)).state).toBe('InProgress');
      // the lease is back: the next tick pushes again, well before the apply timeout (600 s)
      await pg.query(
        'INSERT INTO agent_session_ownership (agent_id, instance_id, fencing_token, lease_expires_at, acquired_at, renewed_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [lease.agent_id, lease.instance_id, lease.fencing_token, lease.lease_expires_at, lease.acquired_at, lease.renewed_at],
      );
      const done = await waitState(api, created.id, 'Completed', 15000);
      expect(done.counts).toMatchObject({ applied: 3, skipped: 0, failed: 0 });
      expect(lonely.pushesSince(mark, v2.configHash)).toHaveLength(1);
    } finally {
      await pg.end();
    }
  }, 60000);

  it('previews the cohort before start and runs the same agents in step 0; skips agents without AcceptsRemoteConfig with a reason', async () => {
    // agents 2 and 5 cannot take remote configs
    const { v2, group, sims: fleet9 } = await fleet(9, 'preview', { capabilities: (i) => (i === 2 || i === 5 ? NO_REMOTE_CONFIG : undefined) });
    const mute = new Set([fleet9[2]!.id, fleet9[5]!.id]);
    for (const s of fleet9) s.delayMs = 1500;
    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Percentage', steps: [50, 100] },
    });
    expect(created).toMatchObject({ autoAdvance: false, stepCount: 2 });
    const preview0 = previewAgentIds((await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200)).body, 0);
    // ceil(50 % of 9) = 5
    expect(preview0).toHaveLength(5);
    // deterministic: asked again, the same agents in the same order
    expect(previewAgentIds((await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200)).body, 0)).toEqual(preview0);
    const all = (await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview`, 200)).body;
    const p0 = previewAgentIds(all, 0);
    const p1 = previewAgentIds(all, 1);
    expect(p0).toEqual(preview0);
    expect(all.groupSize).toBe(9);
    expect(p1).toHaveLength(4);
    expect(new Set([...p0, ...p1])).toEqual(new Set(fleet9.map((s) => s.id)));
    // the group's members are visible to Viewers in the preview too
    const viewer = apiClient(server.url, await createToken(server, 'Viewer'));
    await expectStatus(viewer, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200);
    await expectStatus(viewer, 'POST', `/api/rollouts/${created.id}/start`, 403);

    const mark = Date.now();
    await act(api, created.id, 'start');
    // step 0 is still applying (agents answer after 1.5 s): advancing now is refused
    const early = await api('POST', `/api/rollouts/${created.id}/advance`);
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ code: 'ROLLOUT_STEP_NOT_SETTLED' });
    const settled = await waitRollout(api, created.id, (r) => r.steps[0]?.settledAt != null, 20000, 'step 0 settled');
    expect(settled).toMatchObject({ state: 'InProgress', currentStep: 0, waitingFor: 'advance' });
    const step0 = settled.targets.filter((t) => t.step === 0).map((t) => t.agentId);
    expect(new Set(step0)).toEqual(new Set(preview0));
    // after start, the preview of step 0 shows its real cohort
    expect(new Set(previewAgentIds((await expectStatus(api, 'GET', `/api/rollouts/${created.id}/preview?step=0`, 200)).body, 0))).toEqual(new Set(preview0));
    // without auto-advance it waits for the operator
    await sleep(1000);
    expect(await getRollout(api, created.id)).toMatchObject({ state: 'InProgress', currentStep: 0 });
    await act(api, created.id, 'advance');
    const done = await waitState(api, created.id, 'Completed', 30000);
    expect(done.counts).toMatchObject({ total: 9, applied: 7, skipped: 2, failed: 0 });
    expect(done.steps.map((s) => s.counts.total)).toEqual([5, 4]);
    for (const t of done.targets) {
      if (mute.has(t.agentId)) {
        expect(t.state).toBe('Skipped');
        expect(t.pushedAt).toBeNull();
        expect(t.reason).toMatch(/AcceptsRemoteConfig/);
      } else {
        expect(t.state).toBe('Applied');
      }
    }
    for (const s of fleet9.filter((x) => mute.has(x.id))) expect(s.pushesSince(mark)).toEqual([]);
    for (const s of fleet9.filter((x) => !mute.has(x.id))) expect(s.pushesSince(mark).map((p) => p.hash)).toEqual([v2.configHash]);
  }, 90000);

  it('rolls a version out to the real Elastic OpAMP client (HTTP) alongside WebSocket agents', async () => {
    const { v1, v2, group, sims: ws } = await fleet(3, 'elastic');
    const token = (await expectStatus(api, 'POST', '/api/bootstrap-tokens', 201, { label: 'elastic', groupId: group.id })).body.token;
    const received: Array<{ hash: string; body: string }> = [];
    const c = createOpAMPClient({
      endpoint: `${server.url}/v1/opamp`,
      headers: { authorization: `Bearer ${token}` },
      heartbeatIntervalSeconds: 0.2,
      capabilities: BigInt(AgentCapabilities.AgentCapabilities_AcceptsRemoteConfig as unknown as bigint) | BigInt(AgentCapabilities.AgentCapabilities_ReportsRemoteConfig as unknown as bigint),
      onMessage: ({ remoteConfig }: { remoteConfig?: { configHash: Uint8Array; config?: { configMap: Record<string, { body: Uint8Array }> } } }) => {
        if (!remoteConfig) return;
        const body = Buffer.from(Object.values(remoteConfig.config?.configMap ?? {})[0]?.body ?? new Uint8Array()).toString('utf8');
        received.push({ hash: Buffer.from(remoteConfig.configHash).toString('hex'), body });
        c.setRemoteConfigStatus({ status: RemoteConfigStatuses.RemoteConfigStatuses_APPLIED, lastRemoteConfigHash: remoteConfig.configHash });
      },
      log: quiet,
    } as never);
    clients.push(c);
    c.setAgentDescription({ identifyingAttributes: { 'service.name': 'elastic-rollout', 'service.version': '1.0.0' }, nonIdentifyingAttributes: { 'host.name': 'elastic-1' } });
    c.start();
    const elastic = await eventually(async () => {
      const items = (await expectStatus(api, 'GET', `/api/agents?groupId=${group.id}&limit=50`, 200)).body.items as Array<{ id: string; agentType: string }>;
      return items.find((a) => a.agentType === 'elastic-rollout');
    }, 15000);
    await eventually(async () => (await agentDetail(api, elastic.id)).remoteConfig.hash === v1.configHash, 15000);

    const created = await createRollout(api, {
      configurationId: v2.configurationId,
      version: v2.number,
      groupId: group.id,
      strategy: { type: 'Batch', batchSize: 2 },
      ordering: 'hostname',
      autoAdvance: true,
    });
    await act(api, created.id, 'start');
    const done = await waitState(api, created.id, 'Completed', 40000);
    expect(done.steps.map((s) => s.counts.total)).toEqual([2, 2]);
    expect(done.counts).toMatchObject({ total: 4, applied: 4 });
    const target = done.targets.find((t) => t.agentId === elastic.id)!;
    expect(target).toMatchObject({ state: 'Applied', pushedAt: expect.any(String), appliedAt: expect.any(String) });
    expect(received.map((r) => r.hash)).toContain(v2.configHash);
    expect(received.find((r) => r.hash === v2.configHash)!.body).toBe(v2.yaml);
    await waitApplied(api, [elastic.id, ...ws.map((s) => s.id)], v2.configHash);
  }, 90000);

  it('takes what a rollout leaves out from the tenant\'s defaults, which Admins set and reset', async () => {
    const builtIn = (await expectStatus(api, 'GET', '/api/rollouts/defaults', 200)).body;
    expect(builtIn).toMatchObject({
      source: 'built-in',
      strategy: { type: 'Canary', steps: [{ percent: 5, dwellSeconds: 300 }, { percent: 25, dwellSeconds: 600 }, { percent: 50, dwellSeconds: 1800 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { applyFailedRatio: 0.2, disconnectRatio: 0.2, effectiveMismatchRatio: 0.2, unhealthyRatio: 0.1, applyTimeoutSeconds: 600 },
      ordering: 'random',
      updatedBy: null,
    });
    const operator = apiClient(server.url, await createToken(server, 'Operator'));
    expect((await operator('PUT', '/api/rollouts/defaults', { strategy: { type: 'Batch' } })).status).toBe(403);
    const bad = await api('PUT', '/api/rollouts/defaults', { strategy: { type: 'Percentage', steps: [50, 20] } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('ROLLOUT_INVALID_STRATEGY');
    expect((await api('PUT', '/api/rollouts/defaults', { gates: { applyFailedRatio: 3 } })).status).toBe(400);
    const [v] = await publishVersions(api, [collectorYaml('defaults')]);
    const base = { configurationId: v!.configurationId, version: v!.number };
    try {
      // two first PUTs at once (no row to lock yet) both succeed
      const body = { strategy: { type: 'Batch', batchSize: 2 }, gates: { applyFailedRatio: 0.5 }, ordering: 'hostname' };
      const both = await Promise.all([api('PUT', '/api/rollouts/defaults', body), api('PUT', '/api/rollouts/defaults', body)]);
      expect(both.map((r) => r.status)).toEqual([200, 200]);
      const set = both[1]!.body;
      expect(set).toMatchObject({ source: 'tenant', strategy: { type: 'Batch', batchSize: 2 }, gates: { applyFailedRatio: 0.5, disconnectRatio: 0.2 }, ordering: 'hostname', updatedBy: expect.any(String), updatedAt: expect.any(String) });
      // what is stored is one of the two (whichever committed last)
      expect(both.map((r) => r.body)).toContainEqual((await operator('GET', '/api/rollouts/defaults')).body);

      // a rollout that leaves them out takes them; what it sets wins
      const plain = await createRollout(api, { ...base, groupId: (await createStaticGroup(api)).id });
      expect(plain).toMatchObject({ strategy: { type: 'Batch', batchSize: 2 }, gates: { applyFailedRatio: 0.5, disconnectRatio: 0.2 }, ordering: 'hostname', autoAdvance: false });
      const own = await createRollout(api, { ...base, groupId: (await createStaticGroup(api)).id, strategy: { type: 'Percentage' }, gates: { applyFailedRatio: 0.1 }, ordering: 'last_seen' });
      expect(own).toMatchObject({ strategy: { type: 'Percentage', steps: [5, 25, 50, 100] }, gates: { applyFailedRatio: 0.1, disconnectRatio: 0.2 }, ordering: 'last_seen' });

      // new defaults do not change existing rollouts
      await expectStatus(api, 'PUT', '/api/rollouts/defaults', 200, { strategy: { type: 'Batch', batchSize: 9 } });
      expect((await getRollout(api, plain.id)).strategy).toEqual({ type: 'Batch', batchSize: 2 });
      const actions = (await expectStatus(api, 'GET', '/api/audit/events?entityType=RolloutDefaults&limit=50', 200)).body.items.map((e: { action: string }) => e.action);
      expect(actions.filter((a: string) => /(^|\.)Updated$/.test(a))).toHaveLength(3);
    } finally {
      const reset = await api('DELETE', '/api/rollouts/defaults');
      expect(reset.status).toBe(200);
      expect(reset.body).toEqual(builtIn);
    }
    // back to the built-in Canary, which advances by itself
    const canary = await createRollout(api, { ...base, groupId: (await createStaticGroup(api)).id });
    expect(canary).toMatchObject({ strategy: { type: 'Canary' }, gates: builtIn.gates, ordering: 'random', autoAdvance: true });
  });

  it('answers illegal transitions and bad strategies with stable problem codes', async () => {
    const { v2, group, sims: stuck } = await fleet(2, 'illegal');
    // these agents never answer the new version: step 0 stays Applying
    for (const s of stuck) s.decide = (hash) => (hash === v2.configHash ? 'ignore' : 'apply');
    const base = { configurationId: v2.configurationId, version: v2.number, groupId: group.id };

    const bad = async (body: Record<string, unknown>) => {
      const res = await api('POST', '/api/rollouts', { name: 'bad', ...base, ...body });
      expect([400, 422]).toContain(res.status);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body.code).toMatch(/^(ROLLOUT_INVALID_STRATEGY|VALIDATION_FAILED)$/);
      return res;
    };
    const notTo100 = await bad({ strategy: { type: 'Percentage', steps: [10, 50] } });
    expect(notTo100.status).toBe(422);
    expect(notTo100.body.code).toBe('ROLLOUT_INVALID_STRATEGY');
    expect(JSON.stringify(notTo100.body)).toContain('100');
    expect((await bad({ strategy: { type: 'Canary', steps: [{ percent: 10, dwellSeconds: 1 }, { percent: 90, dwellSeconds: 0 }] } })).body.code).toBe('ROLLOUT_INVALID_STRATEGY');
    expect((await bad({ strategy: { type: 'Percentage', steps: [50, 20, 100] } })).body.code).toBe('ROLLOUT_INVALID_STRATEGY');
    await bad({ strategy: { type: 'Batch', batchSize: 0 } });
    await bad({ strategy: { type: 'Rolling' } });
    await bad({ strategy: { type: 'Batch', batchSize: 2 }, gates: { applyFailedRatio: 1.5 } });
    expect((await api('GET', '/api/rollouts?limit=500')).body.items.filter((r: Rollout) => r.name === 'bad')).toEqual([]);

    const r = await createRollout(api, { ...base, strategy: { type: 'Batch', batchSize: 5 } });
    // one active rollout per group
    const busy = await api('POST', '/api/rollouts', { name: 'second', ...base, strategy: { type: 'Batch', batchSize: 5 } });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('ROLLOUT_GROUP_BUSY');

    const illegal = async (action: string, state: string) => {
      const res = await api('POST', `/api/rollouts/${r.id}/${action}`);
      expect({ action, status: res.status }).toEqual({ action, status: 409 });
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body).toMatchObject({ code: 'ROLLOUT_ILLEGAL_TRANSITION', state, action });
    };
    await illegal('resume', 'Pending');
    await illegal('pause', 'Pending');
    await illegal('advance', 'Pending');
    expect((await getRollout(api, r.id)).state).toBe('Pending');

    await act(api, r.id, 'start');
    await illegal('start', 'InProgress');
    await illegal('resume', 'InProgress');
    await waitRollout(api, r.id, (x) => x.counts.applying === 2, 10000, 'both targets Applying');
    expect((await api('POST', `/api/rollouts/${r.id}/advance`)).body.code).toBe('ROLLOUT_STEP_NOT_SETTLED');
    expect((await act(api, r.id, 'pause')).state).toBe('Paused');
    await illegal('pause', 'Paused');
    await illegal('start', 'Paused');
    expect((await act(api, r.id, 'abort')).state).toBe('Failed');
    for (const action of ['start', 'pause', 'resume', 'abort', 'advance']) await illegal(action, 'Failed');
    expect((await getRollout(api, r.id)).state).toBe('Failed');
    // the group is free again
    const next = await createRollout(api, { ...base, strategy: { type: 'Batch', batchSize: 5 } });

    // a configuration with a single version has nothing to roll back to
    const [only] = await publishVersions(api, [collectorYaml('only-version')]);
    const lone = await createStaticGroup(api);
    const single = await createRollout(api, { configurationId: only!.configurationId, version: only!.number, groupId: lone.id, strategy: { type: 'Batch', batchSize: 1 } });
    await act(api, single.id, 'start');
    await act(api, single.id, 'abort');
    const none = await api('POST', `/api/rollouts/${single.id}/rollback`);
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('ROLLOUT_NO_PREVIOUS_VERSION');
    expect(none.contentType).toContain('application/problem+json');

    expect((await api('GET', `/api/rollouts/${crypto.randomUUID()}`)).body.code).toBe('ROLLOUT_NOT_FOUND');
    expect(next.state).toBe('Pending');
    expect((await api('GET', '/api/rollouts?state=Failed&limit=500')).body.items.map((x: Rollout) => x.id)).toEqual(expect.arrayContaining([r.id, single.id]));
  }, 90000);
});
