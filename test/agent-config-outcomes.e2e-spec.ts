import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { captureLogs, eventually, LogCapture, RemoteConfigStatus } from '@ampora/testing';
import {
  act,
  agentDetail,
  Api,
  apiClient,
  assignGroup,
  collectorYaml,
  createRollout,
  createStaticGroup,
  enrollAgents,
  expectStatus,
  getRollout,
  publishVersions,
  SimAgent,
  sleep,
  waitApplied,
  waitState,
} from './support/rollout-kit';
import { startTestServer, TestServer } from './support/test-server';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'libs', 'fleet', 'src', 'agents', 'domain', '__fixtures__', name), 'utf8');

interface HistoryEntry {
  at: string;
  kind: string;
  configHash: string;
  version: { versionId: string; configurationId: string; version: number } | null;
  message: string | null;
}

/**
 * What real OpAMP Supervisors showed (issue 26), end to end with simulated agents that behave like
 * them: a rollback after the agents restored the previous version by themselves, the failure that must
 * stay visible, the config history, drift on a Supervisor's merged effective config, and available
 * components reported nested.
 */
describe('agent config outcomes (issue 26)', () => {
  let server: TestServer;
  let api: Api;
  let wsUrl: string;
  let logs: LogCapture;
  const sims: SimAgent[] = [];

  beforeAll(async () => {
    logs = captureLogs('Information');
    server = await startTestServer({
      env: { AMPORA_ROLLOUT_TICK_MS: '300', AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_FLEET_DISPATCH_RATE: '1000' },
      withWorker: true,
    });
    api = apiClient(server.url, server.adminToken);
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
  });
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()));
    await server.close();
  });
  let seen = 0;
  beforeEach(() => {
    seen = logs.records.length;
  });
  afterEach(() => {
    expect(logs.records.slice(seen).find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });

  async function agents(count: number, groupId: string): Promise<SimAgent[]> {
    const list = await enrollAgents(api, wsUrl, count, { groupId });
    sims.push(...list);
    return list;
  }

  async function history(id: string, limit = 100): Promise<HistoryEntry[]> {
    return (await expectStatus(api, 'GET', `/api/agents/${id}/config-history?limit=${limit}`, 200)).body.items;
  }

  it('a rollback after the agents restored the previous version themselves assigns and pushes it, and completes only on APPLIED given after it; the failure stays visible', async () => {
    const [v1, v2] = await publishVersions(api, [collectorYaml('good'), collectorYaml('broken')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const canary = await agents(2, group.id);
    const ids = canary.map((s) => s.id);
    await waitApplied(api, ids, v1!.configHash, 10000);

    // the Collector cannot run v2: FAILED, and the rollout pauses on apply-failed-ratio
    for (const s of canary) s.decide = (hash) => (hash === v2!.configHash ? 'fail' : 'ignore');
    const rollout = await createRollout(api, { configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 2 }, gates: { applyFailedRatio: 0.2 } });
    await act(api, rollout.id, 'start');
    expect((await waitState(api, rollout.id, 'Paused', 20000)).gate).toMatchObject({ gate: 'apply-failed-ratio' });

    // each Supervisor restores its last working config by itself and reports APPLIED for v1's hash
    for (const s of canary) s.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.from(v1!.configHash, 'hex'));
    await waitApplied(api, ids, v1!.configHash);
    for (const id of ids) {
      const d = (await expectStatus(api, 'GET', `/api/agents/${id}`, 200)).body;
      // assigned v2 by the rollout, running v1: shown as drift, and the failure is still there
      expect(d.assignment).toMatchObject({ source: 'rollout', version: v2!.number });
      expect(d.drift).toBe(true);
      expect(d.remoteConfig).toMatchObject({ status: 'APPLIED', hash: v1!.configHash, errorMessage: null });
      expect(d.remoteConfig.lastFailure).toMatchObject({ hash: v2!.configHash, message: canary[0]!.errorText, version: { versionId: v2!.id, version: v2!.number } });
      expect(Date.parse(d.remoteConfig.lastFailure.at)).toBeGreaterThan(0);
    }

    // what the rollback's pushes ask for besides the config
    const fullStateAsked = new Set<string>();
    for (const s of canary) {
      const inner = s.agent.onRemoteConfig!;
      s.agent.onRemoteConfig = (m, at) => {
        if (Buffer.from(m.remote_config!.config_hash!).toString('hex') === v1!.configHash && (BigInt(m.flags ?? '0') & 1n) === 1n) fullStateAsked.add(s.id);
        inner(m, at);
      };
    }
    const mark = Date.now();
    await act(api, rollout.id, 'rollback');
    const parent = await waitState(api, rollout.id, 'RolledBack', 10000);
    const childId = parent.rollbackId!;
    // v1 is assigned to both and pushed, although they report it already
    await eventually(async () => canary.every((s) => s.pushesSince(mark, v1!.configHash).length > 0) || undefined, 15000);
    for (const id of ids) expect((await agentDetail(api, id)).assignment).toMatchObject({ source: 'rollout', version: v1!.number });
    // forced, and asking for the agents' full state: an agent that runs the version already reports it again
    expect([...fullStateAsked].sort()).toEqual([...ids].sort());
    // nobody answered the rollback's push: it is not complete (it was, in 0.25 s, before the fix)
    await sleep(2500);
    const waiting = await getRollout(api, childId);
    expect(waiting.state).toBe('InProgress');
    expect(waiting.counts).toMatchObject({ applied: 0, total: 2 });

    for (const s of canary) {
      s.agent.reportRemoteConfig(RemoteConfigStatus.APPLYING, Buffer.from(v1!.configHash, 'hex'));
      s.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.from(v1!.configHash, 'hex'));
    }
    const done = await waitState(api, childId, 'Completed', 20000);
    expect(done.counts).toMatchObject({ applied: 2, failed: 0, total: 2 });
    for (const id of ids) {
      const d = (await expectStatus(api, 'GET', `/api/agents/${id}`, 200)).body;
      expect(d.assignment).toMatchObject({ version: v1!.number });
      expect(d.remoteConfig.lastFailure).toMatchObject({ hash: v2!.configHash, message: canary[0]!.errorText });
    }

    // the history, newest first: the rollback's push and answers, the restore, the failure, v2's push, v1 at enrolment
    const id = ids[0]!;
    const items = await eventually(async () => {
      const h = await history(id);
      return h[0]?.kind === 'APPLIED' && h.some((e) => e.kind === 'FAILED') ? h : undefined;
    }, 5000);
    const at = items.map((e) => Date.parse(e.at));
    expect([...at].sort((a, b) => b - a)).toEqual(at);
    const failed = items.findIndex((e) => e.kind === 'FAILED');
    expect(items[failed]).toMatchObject({ configHash: v2!.configHash, message: canary[0]!.errorText, version: { versionId: v2!.id, version: v2!.number } });
    const kinds = items.map((e) => `${e.kind} ${e.version?.version ?? '?'}`);
    expect(kinds.slice(0, failed + 1)).toEqual(['APPLIED 1', 'APPLYING 1', 'PUSHED 1', 'APPLIED 1', 'FAILED 2']);
    expect(kinds.slice(failed + 1)).toEqual(expect.arrayContaining(['PUSHED 2', 'PUSHED 1', 'APPLIED 1']));
    expect(kinds.indexOf('PUSHED 2')).toBeGreaterThan(failed);

    // keyset pages of 2 give the same list
    const paged: HistoryEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: HistoryEntry[]; nextCursor: string | null } = (await expectStatus(api, 'GET', `/api/agents/${id}/config-history?limit=2${cursor ? `&cursor=${cursor}` : ''}`, 200)).body;
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(items);
    expect((await api('GET', '/api/agents/00000000-0000-4000-8000-000000000000/config-history')).status).toBe(404);
  }, 90000);

  it('an agent that applied the rollout\'s version and then reports another hash is counted by the effective-mismatch gate', async () => {
    const [v1, v2] = await publishVersions(api, [collectorYaml('steady'), collectorYaml('next')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const fleet = await agents(2, group.id);
    await waitApplied(api, fleet.map((s) => s.id), v1!.configHash, 10000);
    const rollout = await createRollout(api, {
      configurationId: v2!.configurationId,
      version: v2!.number,
      groupId: group.id,
      strategy: { type: 'Canary', steps: [{ percent: 50, dwellSeconds: 120 }, { percent: 100, dwellSeconds: 0 }] },
      gates: { effectiveMismatchTimeoutSeconds: 1, effectiveMismatchRatio: 0.2 },
    });
    await act(api, rollout.id, 'start');
    const dwelling = await waitState(api, rollout.id, 'InProgress').then(() =>
      eventually(async () => {
        const r = await getRollout(api, rollout.id);
        return r.counts.applied === 1 && r.waitingFor === 'dwell' ? r : undefined;
      }, 15000),
    );
    const applied = fleet.find((s) => s.id === dwelling.targets[0]!.agentId)!;
    // running the version without an effective config to compare is no mismatch (drift unknown), past the gate's timeout too
    await sleep(2500);
    expect(await getRollout(api, rollout.id)).toMatchObject({ state: 'InProgress', gate: null });
    // its Supervisor goes back to v1 by itself: it does not run the rollout's version any more
    applied.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.from(v1!.configHash, 'hex'));
    const paused = await waitState(api, rollout.id, 'Paused', 15000);
    expect(paused.gate).toMatchObject({ gate: 'effective-mismatch-ratio', agents: [applied.id], numerator: 1, denominator: 1 });
    expect((await expectStatus(api, 'GET', `/api/agents/${applied.id}`, 200)).body).toMatchObject({ drift: true, assignment: { source: 'rollout', version: v2!.number } });
    await act(api, rollout.id, 'abort');
  }, 60000);

  it('an abort puts the agents the rollout touched back on their group\'s version and pushes it', async () => {
    const [v1, v2] = await publishVersions(api, [collectorYaml('before'), collectorYaml('aborted')]);
    const group = await createStaticGroup(api);
    await assignGroup(api, group.id, v1!);
    const fleet = await agents(3, group.id);
    await waitApplied(api, fleet.map((s) => s.id), v1!.configHash, 10000);
    for (const s of fleet) s.decide = (hash) => (hash === v2!.configHash ? 'ignore' : 'apply');
    const rollout = await createRollout(api, { configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 2 } });
    await act(api, rollout.id, 'start');
    const running = await eventually(async () => {
      const r = await getRollout(api, rollout.id);
      return r.counts.applying === 2 ? r : undefined;
    }, 10000);
    const touched = running.targets.map((t) => t.agentId);
    for (const id of touched) expect((await agentDetail(api, id)).assignment).toMatchObject({ source: 'rollout', version: v2!.number });
    const mark = Date.now();
    expect((await act(api, rollout.id, 'abort')).state).toBe('Failed');
    for (const id of touched) expect((await agentDetail(api, id)).assignment).toMatchObject({ source: 'group', version: v1!.number });
    const byId = new Map(fleet.map((s) => [s.id, s]));
    await eventually(async () => touched.every((id) => byId.get(id)!.pushesSince(mark, v1!.configHash).length === 1) || undefined, 10000);
    // the agent the rollout never reached is left alone
    const other = fleet.find((s) => !touched.includes(s.id))!;
    expect(other.pushesSince(mark)).toEqual([]);
    await waitApplied(api, touched, v1!.configHash);
  }, 60000);

  it('drift: false for a Supervisor\'s merged effective config, true for another reported hash, unknown without an effective config', async () => {
    const group = await createStaticGroup(api);
    const [supervised, silent] = await agents(2, group.id);
    for (const s of [supervised!, silent!]) s.decide = () => 'ignore';
    const assigned = fixture('assigned.yaml');
    let hash = '';
    for (const s of [supervised!, silent!]) hash = (await expectStatus(api, 'POST', `/api/agents/${s.id}/assign`, 200, { yaml: assigned })).body.configHash;
    await eventually(async () => supervised!.pushes.length > 0 || undefined, 5000);

    supervised!.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.from(hash, 'hex'));
    supervised!.agent.reportEffective(fixture('supervisor-effective.yaml'), '');
    const drift = async (id: string) => (await expectStatus(api, 'GET', `/api/agents/${id}/drift`, 200)).body;
    const view = await eventually(async () => {
      const d = await drift(supervised!.id);
      return d.effectiveHash && d.reportedHash ? d : undefined;
    }, 5000).catch(async () => {
      throw new Error(`drift view never showed both: ${JSON.stringify(await drift(supervised!.id))} ${JSON.stringify(await agentDetail(api, supervised!.id))}`);
    });
    expect(view).toMatchObject({ drift: false, identical: false, reportedHash: hash, assignedConfigHash: hash });
    expect(view.differences.length).toBeGreaterThan(3);
    expect(view.differences.filter((d: { counts: boolean }) => d.counts)).toEqual([]);
    expect(view.differences).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'component_added', component: 'opamp', counts: false, why: 'added by the OpAMP Supervisor' })]));
    expect(view.unified).toContain('idle_timeout');
    expect((await agentDetail(api, supervised!.id)) as unknown).toMatchObject({ drift: false });
    const listed = async (value: string) => ((await expectStatus(api, 'GET', `/api/agents?groupId=${group.id}&drift=${value}`, 200)).body.items as Array<{ id: string }>).map((a) => a.id);
    expect(await listed('false')).toEqual([supervised!.id]);
    expect(await listed('true')).toEqual([]);
    expect(await listed('unknown')).toEqual([silent!.id]);

    // never reported an effective config: unknown, not "not identical"
    expect(await drift(silent!.id)).toMatchObject({ drift: 'unknown', identical: false, differences: [], reason: 'the agent has not reported its effective config' });

    // a Supervisor's own restore (or a local edit) reports another hash: drift
    supervised!.agent.reportRemoteConfig(RemoteConfigStatus.APPLIED, Buffer.alloc(32, 0xab));
    await eventually(async () => ((await drift(supervised!.id)).drift === true) || undefined, 5000);
    const other = await drift(supervised!.id);
    expect(other.differences[0]).toMatchObject({ kind: 'remote_config_hash', counts: true });
    expect(await listed('true')).toEqual([supervised!.id]);
    expect(await listed('false')).toEqual([]);
  }, 60000);

  it('shows available components reported nested by kind, with their module versions', async () => {
    const group = await createStaticGroup(api);
    const [collector] = await agents(1, group.id);
    const component = (module: string) => ({ metadata: [{ key: 'code.namespace', value: { string_value: module } }] });
    collector!.agent.send({
      available_components: {
        hash: Buffer.alloc(32, 7),
        components: {
          receivers: { sub_component_map: { otlp: component('go.opentelemetry.io/collector/receiver/otlpreceiver v0.158.0') } },
          exporters: { sub_component_map: { debug: component('go.opentelemetry.io/collector/exporter/debugexporter v0.158.0'), nop: component('go.opentelemetry.io/collector/exporter/nopexporter v0.158.0') } },
          processors: {},
        },
      },
    });
    const ac = await eventually(async () => (await expectStatus(api, 'GET', `/api/agents/${collector!.id}`, 200)).body.availableComponents ?? undefined, 5000);
    expect(ac.subComponents).toEqual({ exporters: ['debug', 'nop'], processors: [], receivers: ['otlp'] });
    expect(ac.byKind.receivers).toEqual([expect.objectContaining({ name: 'otlp', module: 'go.opentelemetry.io/collector/receiver/otlpreceiver', version: 'v0.158.0' })]);
    expect(ac.byKind.exporters.map((c: { name: string; version: string }) => `${c.name} ${c.version}`)).toEqual(['debug v0.158.0', 'nop v0.158.0']);
  }, 30000);
});
