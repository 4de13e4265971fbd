import { AgentCapabilities, createOpAMPClient, RemoteConfigStatuses } from '@elastic/opamp-client-node';
import { eventually } from '@ampora/testing';
import { Client } from 'pg';
import {
  act,
  agentDetail,
  allTargets,
  Api,
  apiClient,
  assignGroup,
  collectorYaml,
  createRollout,
  createStaticGroup,
  expectStatus,
  getRollout,
  NO_REMOTE_CONFIG,
  previewAgentIds,
  publishVersions,
  Rollout,
  SimAgent,
  sleep,
  waitRollout,
  waitApplied,
  waitState,
} from './support/rollout-kit';
import { createToken, TestServer } from './support/test-server';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * Rollouts end to end (decision 0080), continued from rollouts.e2e-spec.ts: agents that move or were
 * unreachable, previews, the real Elastic HTTP client, the tenant's defaults and the problem codes.
 */
describe('rollouts end to end: operations', () => {
  const e2e = rolloutsEndToEnd();
  const { clients } = e2e;
  let server: TestServer;
  let api: Api;
  beforeAll(() => {
    ({ server, api } = e2e);
  });
  const fleet = (...a: Parameters<typeof e2e.fleet>) => e2e.fleet(...a);

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
