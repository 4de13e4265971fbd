import { DataSource } from 'typeorm';
import { PeerClient, PeersService } from '@ampora/federation';
import { defaultTenantCaller, eventually } from '@ampora/testing';
import { Deployment, pair, startDeployment } from './support/federation-kit';
import { collectorYaml, createStaticGroup, enrollAgents, expectStatus, getRollout, PublishedVersion, publishVersions, rolloutAudit, SimAgent, waitApplied } from './support/rollout-kit';

interface FedLeg {
  deployment: string;
  groupName: string;
  rolloutId: string | null;
  state: string;
  reason: string | null;
  currentStep: number | null;
  stepCount: number;
  counts: { applied: number; failed: number; total: number };
  gate: { gate: string } | null;
  rollbackState: string | null;
}
interface Fed {
  id: string;
  state: string;
  reason: string | null;
  coordination: string;
  counts: { applied: number; failed: number; total: number };
  legs: FedLeg[];
}

const ROLLOUT_ENV = {
  AMPORA_ROLLOUT_TICK_MS: '300',
  AMPORA_FEDERATION_ROLLOUT_TICK_MS: '300',
  AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100',
  AMPORA_FLEET_DISPATCH_RATE: '1000',
  AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS: '3600',
};

/**
 * Federated rollouts between two complete deployments (issue 19, decision 0370): each with its own
 * database, CA, Redis prefix, worker and federation listener, paired over pinned mTLS, each with three
 * real OpAMP (protobuf over WebSocket) agents in a group of the same name. A Synchronized rollout
 * completes on both with the legs stepping together; the pre-flight refuses a version one target does
 * not have Published; a leg the target refuses is held with the reason; a gate on the peer pauses
 * every leg and the rollback rolls every leg back.
 */
describe('federated rollouts between two deployments', () => {
  let a: Deployment;
  let b: Deployment;
  const sims: { a: SimAgent[]; b: SimAgent[] } = { a: [], b: [] };
  const versions: { a: PublishedVersion[]; b: PublishedVersion[] } = { a: [], b: [] };
  const CONFIG = 'edge-collector';
  const GROUP = 'edge';
  const yamls = [collectorYaml('v1'), collectorYaml('v2'), collectorYaml('v3')];

  const fed = async (d: Deployment, id: string): Promise<Fed> => (await expectStatus(d.api, 'GET', `/api/rollouts/federated/${id}`, 200)).body;
  const waitFed = async (id: string, pred: (f: Fed) => boolean, what: string, timeoutMs = 40000): Promise<Fed> => {
    let last: Fed | undefined;
    const found = await eventually(async () => {
      last = await fed(a, id);
      return pred(last) ? last : undefined;
    }, timeoutMs).catch(() => undefined);
    if (!found) throw new Error(`federated rollout ${id} did not reach ${what}; last seen ${JSON.stringify(last)}`);
    return found;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([startDeployment('ampora-a', ROLLOUT_ENV, { withWorker: true }), startDeployment('ampora-b', ROLLOUT_ENV, { withWorker: true })]);
    await pair(a, 'a', b, 'b');
    for (const [d, key] of [[a, 'a'], [b, 'b']] as const) {
      const group = await createStaticGroup(d.api, GROUP);
      // the same YAML published on both sides: the same content hash, so the same versions (content never travels)
      versions[key] = await publishVersions(d.api, yamls, CONFIG);
      sims[key] = await enrollAgents(d.api, d.ws, 3, { groupId: group.id, hostPrefix: key });
      // every agent runs v1 to begin with
      await expectStatus(d.api, 'PUT', `/api/groups/${group.id}/assignment`, 200, { configurationId: versions[key][0]!.configurationId, version: 1 });
      await waitApplied(d.api, sims[key].map((s) => s.id), versions[key][0]!.configHash, 20000);
    }
  }, 180000);

  afterAll(async () => {
    await Promise.all([...sims.a, ...sims.b].map((s) => s.close()));
    await a?.close();
    await b?.close();
  });

  it('refuses a version that is not Published with the same content on every target', async () => {
    const draft = (await expectStatus(b.api, 'POST', `/api/configurations/${versions.b[0]!.configurationId}/versions`, 201, { yaml: collectorYaml('only-on-a') })).body;
    const onlyA = (await expectStatus(a.api, 'POST', `/api/configurations/${versions.a[0]!.configurationId}/versions`, 201, { yaml: collectorYaml('only-on-a') })).body;
    await expectStatus(a.api, 'POST', `/api/configurations/${versions.a[0]!.configurationId}/versions/${onlyA.number}/publish`, 200);
    const refused = await expectStatus(a.api, 'POST', '/api/rollouts/federated', 422, { name: 'not everywhere', configurationId: versions.a[0]!.configurationId, version: onlyA.number, groupName: GROUP, targets: [{}, { peer: 'b' }] });
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body.code).toBe('FEDERATION_PREFLIGHT_FAILED');
    expect(refused.body.targets).toEqual([{ target: 'b', problem: `the version of ${CONFIG} with this content hash is ${draft.status}, not Published` }]);
    // a plan no rollout would take is refused before any peer is asked
    expect((await expectStatus(a.api, 'POST', '/api/rollouts/federated', 422, { name: 'bad plan', configurationId: versions.a[0]!.configurationId, version: 2, groupName: GROUP, targets: [{ peer: 'b' }], strategy: { type: 'Sometimes' } })).body.code).toBe('FEDERATED_ROLLOUT_INVALID');
    // an unknown peer is not a target
    expect((await expectStatus(a.api, 'POST', '/api/rollouts/federated', 404, { name: 'x', configurationId: versions.a[0]!.configurationId, version: 2, groupName: GROUP, targets: [{ peer: 'nobody' }] })).body.code).toBe('FEDERATION_PEER_NOT_FOUND');
    // only an Admin starts one
    const { apiClient } = await import('./support/rollout-kit');
    const { createToken } = await import('./support/test-server');
    const operator = apiClient(a.server.url, await createToken(a.server, 'Operator'));
    await expectStatus(operator, 'POST', '/api/rollouts/federated', 403, { name: 'x', configurationId: versions.a[0]!.configurationId, version: 2, groupName: GROUP, targets: [{}] });
  });

  it('runs a Synchronized rollout on both deployments, each leg its own rollout, the legs stepping together', async () => {
    // B's agents are slower: A's leg must wait for B's before its next step
    for (const s of sims.b) s.delayMs = 1500;
    const created = (
      await expectStatus(a.api, 'POST', '/api/rollouts/federated', 201, {
        name: 'v2 everywhere',
        configurationId: versions.a[1]!.configurationId,
        version: 2,
        groupName: GROUP,
        targets: [{}, { peer: 'b' }],
        coordination: 'Synchronized',
        strategy: { type: 'Percentage', steps: [34, 100] },
      })
    ).body as Fed;
    expect(created).toMatchObject({ coordination: 'Synchronized', state: 'InProgress' });
    expect(created.legs.map((l) => l.deployment)).toEqual(['local', 'b']);
    expect(created.legs.every((l) => l.rolloutId !== null && l.state === 'InProgress')).toBe(true);

    const done = await waitFed(created.id, (f) => f.state === 'Completed', 'Completed', 60000);
    expect(done.legs.map((l) => l.state)).toEqual(['Completed', 'Completed']);
    expect(done.counts).toMatchObject({ applied: 6, failed: 0, total: 6 });
    for (const s of sims.b) s.delayMs = 0;

    // each leg is an ordinary rollout of its own deployment, audited there (B's names the peer and the originator)
    const legA = await getRollout(a.api, done.legs[0]!.rolloutId!);
    const legB = await getRollout(b.api, done.legs[1]!.rolloutId!);
    for (const leg of [legA, legB]) expect(leg).toMatchObject({ state: 'Completed', autoAdvance: false, stepCount: 2 });
    expect((await rolloutAudit(b.api, legB.id)).find((e) => e.action === 'Created')!.actor).toMatch(/^peer:a\//);
    await waitApplied(a.api, sims.a.map((s) => s.id), versions.a[1]!.configHash, 20000);
    await waitApplied(b.api, sims.b.map((s) => s.id), versions.b[1]!.configHash, 20000);
    expect(versions.a[1]!.configHash).toBe(versions.b[1]!.configHash);

    // Synchronized: no leg's second step started before both first steps had settled
    const settled0 = Math.max(Date.parse(legA.steps[0]!.settledAt!), Date.parse(legB.steps[0]!.settledAt!));
    expect(Date.parse(legB.steps[0]!.settledAt!)).toBeGreaterThan(Date.parse(legA.steps[0]!.settledAt!));
    expect(Date.parse(legA.steps[1]!.startedAt)).toBeGreaterThanOrEqual(settled0 - 50);
    expect(Date.parse(legB.steps[1]!.startedAt)).toBeGreaterThanOrEqual(settled0 - 50);
    const audit = (await expectStatus(a.api, 'GET', `/api/audit/events?entityType=FederatedRollout&limit=50`, 200)).body.items as Array<{ entityId: string; action: string }>;
    expect(audit.filter((e) => e.entityId === created.id).map((e) => e.action).sort()).toEqual(['Completed', 'Created']);
  }, 90000);

  it('holds a leg the target refuses, with the target\'s reason', async () => {
    const created = (await expectStatus(a.api, 'POST', '/api/rollouts/federated', 201, { name: 'held', configurationId: versions.a[2]!.configurationId, version: 3, groupName: GROUP, targets: [{ peer: 'b', groupName: 'no-such-group' }] })).body as Fed;
    expect(created.legs[0]).toMatchObject({ deployment: 'b', state: 'Held', rolloutId: null, reason: expect.stringContaining('FEDERATION_GROUP_NOT_FOUND') });
    expect(created.state).toBe('InProgress');
    const aborted = (await expectStatus(a.api, 'POST', `/api/rollouts/federated/${created.id}/abort`, 200)).body as Fed;
    expect(aborted.state).toBe('Failed');
    expect((await expectStatus(a.api, 'POST', `/api/rollouts/federated/${created.id}/resume`, 409)).body.code).toBe('FEDERATED_ROLLOUT_ILLEGAL_TRANSITION');
  });

  it('holds a leg the target\'s policy denies, with the policy and its reason, instead of running it on part of the group', async () => {
    // B's own policy (four-eyes there): no push to the agent on host b-000
    const policy = (await expectStatus(b.api, 'POST', '/api/policies', 201, { name: 'not-b-000', description: '', expression: 'agent.description["host.name"] != "b-000"' })).body;
    await expectStatus(b.api, 'POST', `/api/policies/${policy.id}/submit`, 200);
    expect((await expectStatus(b.approver, 'POST', `/api/policies/${policy.id}/approve`, 200, {})).body.status).toBe('Active');
    const created = (await expectStatus(a.api, 'POST', '/api/rollouts/federated', 201, { name: 'denied on b', configurationId: versions.a[2]!.configurationId, version: 3, groupName: GROUP, targets: [{ peer: 'b' }], strategy: { type: 'Percentage', steps: [100] } })).body as Fed;
    expect(created.state).toBe('InProgress');
    expect(created.legs[0]).toMatchObject({ state: 'Held', rolloutId: null, reason: expect.stringMatching(/FEDERATION_LEG_DENIED_BY_POLICY.*1 of 3 agents.*policy not-b-000/) });
    // held, not run on part of the group: nothing was pushed there, and it stays held on the next ticks
    await new Promise((r) => setTimeout(r, 1500));
    const still = await fed(a, created.id);
    expect(still.legs[0]).toMatchObject({ state: 'Held', rolloutId: null });
    expect(sims.b.every((s) => s.pushesSince(0, versions.b[2]!.configHash).length === 0)).toBe(true);
    await expectStatus(a.api, 'POST', `/api/rollouts/federated/${created.id}/abort`, 200);
    await expectStatus(b.api, 'POST', `/api/policies/${policy.id}/disable`, 200);
  });

  it('pauses every leg when a gate fires on the peer, and rolls every leg back', async () => {
    const v3 = versions.b[2]!.configHash;
    for (const s of sims.b) s.decide = (hash) => (hash === v3 ? 'fail' : 'apply');
    const created = (
      await expectStatus(a.api, 'POST', '/api/rollouts/federated', 201, {
        name: 'v3 everywhere',
        configurationId: versions.a[2]!.configurationId,
        version: 3,
        groupName: GROUP,
        targets: [{}, { peer: 'b' }],
        coordination: 'Synchronized',
        strategy: { type: 'Percentage', steps: [34, 100] },
        gates: { applyFailedRatio: 0.2 },
      })
    ).body as Fed;
    const paused = await waitFed(created.id, (f) => f.state === 'Paused' && f.legs[0]!.state === 'Paused', 'Paused on both legs');
    expect(paused.reason).toMatch(/^leg b paused by gate apply-failed-ratio/);
    expect(paused.legs[1]).toMatchObject({ state: 'Paused', gate: { gate: 'apply-failed-ratio' } });
    // the peer's own rollout was paused by its own gate; ours by the propagation
    expect((await getRollout(b.api, paused.legs[1]!.rolloutId!)).gate).toMatchObject({ gate: 'apply-failed-ratio' });
    expect((await getRollout(a.api, paused.legs[0]!.rolloutId!)).state).toBe('Paused');

    const rolled = (await expectStatus(a.api, 'POST', `/api/rollouts/federated/${created.id}/rollback`, 200)).body as Fed;
    expect(rolled.state).toBe('RolledBack');
    const back = await waitFed(created.id, (f) => f.legs.every((l) => l.state === 'RolledBack' && l.rollbackState === 'Completed'), 'every leg rolled back');
    expect(back.legs.map((l) => l.deployment)).toEqual(['local', 'b']);
    // every agent the legs touched runs v2 again, on both sides
    await waitApplied(a.api, sims.a.map((s) => s.id), versions.a[1]!.configHash, 20000);
    await waitApplied(b.api, sims.b.map((s) => s.id), versions.b[1]!.configHash, 20000);
    expect((await getRollout(b.api, back.legs[1]!.rolloutId!)).state).toBe('RolledBack');

    // a peer reads and controls the legs it opened, never another rollout of the tenant
    const { tenantId } = await defaultTenantCaller(a.server.app.get(DataSource), 'Admin', 'federation-test');
    const peerB = await a.server.app.get(PeersService).activeByName(tenantId, 'b');
    const client = a.server.app.get(PeerClient);
    expect((await client.call<{ state: string }>(peerB, `/federation/v1/rollouts/${back.legs[1]!.rolloutId}`)).body.state).toBe('RolledBack');
    const groupB = (await expectStatus(b.api, 'GET', '/api/groups?limit=100', 200)).body.items.find((g: { name: string }) => g.name === GROUP);
    const plain = (await expectStatus(b.api, 'POST', '/api/rollouts', 201, { name: 'plain', configurationId: versions.b[1]!.configurationId, version: 2, groupId: groupB.id })).body;
    await expect(client.call(peerB, `/federation/v1/rollouts/${plain.id}`)).rejects.toMatchObject({ status: 404 });
    await expect(client.call(peerB, `/federation/v1/rollouts/${plain.id}/abort`, { method: 'POST', body: { by: 'x' } })).rejects.toMatchObject({ status: 404 });
    expect((await getRollout(b.api, plain.id)).state).toBe('Pending');
  }, 90000);

  it('holds a leg whose start waits for an approval on the target, names the request, and runs it once approved there', async () => {
    for (const s of sims.b) s.decide = () => 'apply';
    // a group of its own on B with one agent (the plain rollout the previous test left Pending holds B's edge group)
    const since = Date.now();
    const group = await createStaticGroup(b.api, 'edge-approval');
    await expectStatus(b.api, 'POST', `/api/groups/${group.id}/members`, 200, { agentIds: [sims.b[0]!.id] });
    // B's own approval rule: every rollout start there waits for a second person
    const rule = (await expectStatus(b.api, 'POST', '/api/approval-rules', 201, { name: 'starts-need-two', operation: 'rollout.start' })).body as { id: string };
    try {
      const created = (await expectStatus(a.api, 'POST', '/api/rollouts/federated', 201, { name: 'approved on b', configurationId: versions.a[2]!.configurationId, version: 3, groupName: GROUP, targets: [{ peer: 'b', groupName: 'edge-approval' }], strategy: { type: 'Percentage', steps: [100] } })).body as Fed;
      const held = await waitFed(created.id, (f) => f.legs[0]!.state === 'Held' && f.legs[0]!.rolloutId !== null, 'the leg held by an approval');
      expect(held.state).toBe('InProgress');
      const pending = (await expectStatus(b.api, 'GET', '/api/approvals?status=Pending&limit=100', 200)).body.items as Array<{ id: string; title: string }>;
      const request = pending.find((r) => r.title.includes('(federated '));
      expect(request).toBeDefined();
      expect(held.legs[0]!.reason).toContain(`approval ${request!.id}`);
      // held, not run: nothing was pushed there while it waits
      expect(sims.b[0]!.pushesSince(since, versions.b[2]!.configHash)).toHaveLength(0);
      await expectStatus(b.approver, 'POST', `/api/approvals/${request!.id}/approve`, 200, {});
      const done = await waitFed(created.id, (f) => f.state === 'Completed', 'Completed after the approval', 60000);
      expect(done.legs[0]).toMatchObject({ state: 'Completed', reason: null });
      await waitApplied(b.api, [sims.b[0]!.id], versions.b[2]!.configHash, 20000);
    } finally {
      await expectStatus(b.api, 'DELETE', `/api/approval-rules/${rule.id}`, 204);
    }
  }, 120000);
});
