import { eventually } from '@ampora/testing';
import { act, allTargets, Api, apiClient, createRollout, createStaticGroup, expectStatus, getRollout, publishVersions, collectorYaml, assignGroup, rolloutAudit, SimAgent, sleep } from './support/rollout-kit';
import { createToken } from './support/test-server';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

interface AuditRow {
  action: string;
  actor: string;
  actorRole: string | null;
  additional: Record<string, unknown> | null;
}

/**
 * A Pending rollout holds its group (one active rollout per group counts Pending); decisions 0410–0412:
 * it can be aborted (→ Failed, nothing pushed, the group free, a start waiting for an approval
 * withdrawn), a rejected start approval fails it (the decider is the actor), and a rollout that never
 * started has nothing to roll back. Real PostgreSQL, Redis, worker and WebSocket agents.
 */
describe('aborting a Pending rollout', () => {
  const e2e = rolloutsEndToEnd();
  let api: Api; // the deployment's admin
  let olga: Api; // Operator: creates, starts and aborts
  let bob: Api; // Admin: decides approvals
  let viewer: Api;

  beforeAll(async () => {
    const token = async (role: 'Operator' | 'Admin' | 'Viewer', name: string) => apiClient(e2e.server.url, await createToken(e2e.server, role, name));
    api = e2e.api;
    olga = await token('Operator', 'olga');
    bob = await token('Admin', 'bob');
    viewer = await token('Viewer', 'vera');
  });

  const audit = async (entityType: string, entityId: string, action: string): Promise<AuditRow[]> =>
    (await expectStatus(api, 'GET', `/api/audit/events?entityType=${entityType}&entityId=${entityId}&action=${action}`, 200)).body.items as AuditRow[];

  /** A group whose agents run v1, and a Pending rollout of v2 to it created by olga. */
  async function held(tag: string, agents = 0) {
    const [v1, v2] = await publishVersions(api, [collectorYaml(`${tag}-v1`), collectorYaml(`${tag}-v2`)]);
    const group = await createStaticGroup(api, `${tag}-${Math.random().toString(36).slice(2, 7)}`);
    await assignGroup(api, group.id, v1!);
    const sims: SimAgent[] = agents > 0 ? await e2e.agents(agents, { groupId: group.id, hostPrefix: tag }) : [];
    await eventually(() => sims.every((s) => s.agent.appliedHash?.toString('hex') === v1!.configHash), 20000);
    const rollout = (await expectStatus(olga, 'POST', '/api/rollouts', 201, { name: `${tag} v2`, configurationId: v2!.configurationId, version: v2!.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 5 } })).body as { id: string; state: string };
    return { v1: v1!, v2: v2!, group, sims, rollout };
  }

  it('ends a Pending rollout as Failed without pushing anything, frees its group, and has nothing to roll back', async () => {
    const { v1, v2, group, sims, rollout } = await held('pending', 2);
    const pushesBefore = sims.map((s) => s.pushes.length);
    const transitionsBefore = await e2e.metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'Failed' });
    // the group is held while it is Pending
    expect((await olga('POST', '/api/rollouts', { name: 'second', configurationId: v2.configurationId, version: v2.number, groupId: group.id })).body.code).toBe('ROLLOUT_GROUP_BUSY');

    // a viewer cannot abort; an operator can, with a reason
    expect((await viewer('POST', `/api/rollouts/${rollout.id}/abort`)).status).toBe(403);
    const aborted = await act(olga, rollout.id, 'abort', { reason: 'wrong version picked' });
    expect(aborted).toMatchObject({ id: rollout.id, state: 'Failed', startedAt: null, currentStep: null });
    expect(aborted.counts.total).toBe(0);
    expect(await allTargets(api, rollout.id)).toEqual([]);

    // audited like every abort: the operator, the reason, nothing reverted; counted
    const trail = await rolloutAudit(api, rollout.id);
    expect(trail.map((e) => e.action)).toEqual(['Created', 'Failed']);
    expect(trail[1]).toMatchObject({ actor: 'olga', before: { state: 'Pending' }, after: { state: 'Failed' }, additional: { by: 'operator', reverted: 0, reason: 'wrong version picked' } });
    expect(trail[1]!.additional).not.toHaveProperty('withdrawnApprovalId');
    expect(await e2e.metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'Failed' })).toBe(transitionsBefore + 1);

    // the group is free: a new rollout on it is created
    const next = await createRollout(olga, { name: 'again', configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Batch', batchSize: 5 } });
    expect(next.state).toBe('Pending');

    // it never started: nothing to roll back, and aborting again is illegal
    const rollback = await olga('POST', `/api/rollouts/${rollout.id}/rollback`);
    expect(rollback.status).toBe(409);
    expect(rollback.contentType).toContain('application/problem+json');
    expect(rollback.body.code).toBe('ROLLOUT_NEVER_STARTED');
    expect((await olga('POST', `/api/rollouts/${rollout.id}/abort`)).body).toMatchObject({ code: 'ROLLOUT_ILLEGAL_TRANSITION', state: 'Failed' });
    expect((await getRollout(api, rollout.id)).state).toBe('Failed');

    // no agent was pushed anything, and each still runs its group's version
    await sleep(500);
    expect(sims.map((s) => s.pushes.length)).toEqual(pushesBefore);
    expect(sims.every((s) => s.agent.appliedHash?.toString('hex') === v1.configHash)).toBe(true);

    // an abort without a body records no reason
    await act(olga, next.id, 'abort');
    expect((await audit('Rollout', next.id, 'Failed'))[0]!.additional).not.toHaveProperty('reason');
  });

  describe('whose start waits for an approval', () => {
    let ruleId: string;
    beforeAll(async () => {
      ruleId = (await expectStatus(api, 'POST', '/api/approval-rules', 201, { name: 'held starts', operation: 'rollout.start', condition: 'group.name matches "held-.*"' })).body.id;
    });
    afterAll(async () => {
      await expectStatus(api, 'DELETE', `/api/approval-rules/${ruleId}`, 204);
    });

    async function waitingStart(tag: string) {
      const h = await held(tag);
      const asked = await expectStatus(olga, 'POST', `/api/rollouts/${h.rollout.id}/start`, 202);
      expect(asked.body.rollout.state).toBe('Pending');
      return { ...h, approvalId: asked.body.approvalId as string };
    }

    const pendingApprovals = async (): Promise<string[]> => ((await expectStatus(bob, 'GET', '/api/approvals?status=Pending&limit=500', 200)).body.items as Array<{ id: string }>).map((a) => a.id);

    it('withdraws the pending start approval: deciding it afterwards is refused, and it is no longer pending', async () => {
      const { v2, group, rollout, approvalId } = await waitingStart('held-abort');
      expect(await pendingApprovals()).toContain(approvalId);

      const aborted = await act(olga, rollout.id, 'abort', { reason: 'superseded' });
      expect(aborted).toMatchObject({ state: 'Failed', startedAt: null });

      const request = (await expectStatus(bob, 'GET', `/api/approvals/${approvalId}`, 200)).body;
      expect(request).toMatchObject({ status: 'Withdrawn', reason: 'the rollout was aborted: superseded' });
      expect(await pendingApprovals()).not.toContain(approvalId);
      const approve = await bob('POST', `/api/approvals/${approvalId}/approve`, {});
      expect(approve.status).toBe(409);
      expect(approve.contentType).toContain('application/problem+json');
      expect(approve.body.code).toBe('APPROVAL_NOT_PENDING');
      expect((await bob('POST', `/api/approvals/${approvalId}/reject`, { reason: 'late' })).body.code).toBe('APPROVAL_NOT_PENDING');
      expect(await getRollout(api, rollout.id)).toMatchObject({ state: 'Failed', startedAt: null });

      // both audit rows name the operator; the rollout's names the withdrawn request
      expect((await audit('Rollout', rollout.id, 'Failed'))[0]).toMatchObject({ actor: 'olga', actorRole: 'Operator', additional: { by: 'operator', reason: 'superseded', withdrawnApprovalId: approvalId } });
      expect((await audit('ApprovalRequest', approvalId, 'Withdrawn'))[0]).toMatchObject({ actor: 'olga', additional: { subjectId: `rollout.start:${rollout.id}`, reason: 'the rollout was aborted: superseded' } });
      expect(await audit('Rollout', rollout.id, 'InProgress')).toHaveLength(0);

      // the group is free
      await createRollout(olga, { name: 'after abort', configurationId: v2.configurationId, version: v2.number, groupId: group.id });
    });

    it('fails the rollout when its start is rejected, inside the decision, the decider its actor; the group is free', async () => {
      const { v2, group, rollout, approvalId } = await waitingStart('held-reject');
      const transitionsBefore = await e2e.metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'Failed' });
      expect((await olga('POST', `/api/approvals/${approvalId}/reject`, { reason: 'mine' })).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await getRollout(api, rollout.id)).state).toBe('Pending');

      await expectStatus(bob, 'POST', `/api/approvals/${approvalId}/reject`, 200, { reason: 'not during the freeze' });
      expect(await getRollout(api, rollout.id)).toMatchObject({ state: 'Failed', startedAt: null });
      expect(await e2e.metric('ampora_rollout_state_transitions_total', { from: 'Pending', to: 'Failed' })).toBe(transitionsBefore + 1);

      const failed = await audit('Rollout', rollout.id, 'Failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ actor: 'bob', actorRole: 'Admin', additional: { by: 'approval', approvalId, reason: 'not during the freeze' } });
      expect((await audit('ApprovalRequest', approvalId, 'Rejected'))[0]).toMatchObject({ actor: 'bob' });
      expect(await audit('Rollout', rollout.id, 'InProgress')).toHaveLength(0);

      // the group is free; the failed rollout cannot be started, aborted or rolled back
      await createRollout(olga, { name: 'after rejection', configurationId: v2.configurationId, version: v2.number, groupId: group.id });
      expect((await olga('POST', `/api/rollouts/${rollout.id}/start`)).body.code).toBe('ROLLOUT_ILLEGAL_TRANSITION');
      expect((await olga('POST', `/api/rollouts/${rollout.id}/rollback`)).body.code).toBe('ROLLOUT_NEVER_STARTED');
    });
  });
});
