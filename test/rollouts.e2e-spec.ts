import { eventually, LogCapture } from '@ampora/testing';
import { Client } from 'pg';
import { LiveBus, PublishedLiveEvent } from '@ampora/platform';
import {
  act,
  agentDetail,
  allTargets,
  Api,
  countBy,
  createRollout,
  expectStatus,
  getRollout,
  previewAgentIds,
  Rollout,
  rolloutAudit,
  SimAgent,
  sleep,
  waitRollout,
  waitApplied,
  waitState,
} from './support/rollout-kit';
import { TestServer } from './support/test-server';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

/**
 * Rollouts end to end (decision 0080): the real server and every worker module in this process, real
 * PostgreSQL and Redis, simulated WebSocket agents as targets: steps, gates, pause, resume, rollback.
 * The rest (moves, previews, the Elastic client, defaults, errors) is in rollouts-operations.e2e-spec.ts.
 */
describe('rollouts end to end', () => {
  const e2e = rolloutsEndToEnd();
  const { sims } = e2e;
  let server: TestServer;
  let api: Api;
  let logs: LogCapture;
  beforeAll(() => {
    ({ server, api, logs } = e2e);
  });
  const agents = (...a: Parameters<typeof e2e.agents>) => e2e.agents(...a);
  const fleet = (...a: Parameters<typeof e2e.fleet>) => e2e.fleet(...a);
  const metric = (...a: Parameters<typeof e2e.metric>) => e2e.metric(...a);

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
});
