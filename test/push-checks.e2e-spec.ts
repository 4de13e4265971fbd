import { PushTimeChecks } from '@ampora/governance';
import { act, allTargets, Api, createRollout, expectStatus, sleep, waitState } from './support/rollout-kit';
import { createToken, TestServer } from './support/test-server';
import { rolloutsEndToEnd } from './support/rollouts-e2e';

/**
 * Policies at every push path (issue 17 item 1, decision 0275), end to end on real PostgreSQL and
 * Redis with simulated WebSocket agents: a rollout step skips the denied agent and applies the
 * others; a one-agent assignment is refused; a force push and a group assignment leave the denied
 * agent out; the dry run agrees with the push; shadow mode records and never blocks.
 */
describe('push-time checks', () => {
  const e2e = rolloutsEndToEnd();
  let server: TestServer;
  let api: Api;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    ({ server, api } = e2e);
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
  });

  /** An Active policy (through four-eyes approval) denying pushes to the agent whose host is `host`. */
  async function denyHost(name: string, host: string): Promise<string> {
    const created = await server.as(alice).post('/api/policies').send({ name, description: '', expression: `agent.description["host.name"] != "${host}"` }).expect(201);
    await server.as(alice).post(`/api/policies/${created.body.id}/submit`).expect(200);
    expect((await server.as(bob).post(`/api/policies/${created.body.id}/approve`).send({}).expect(200)).body.status).toBe('Active');
    return created.body.id as string;
  }

  it('has governance\'s policies as the first push-time check', () => {
    expect(server.app.get(PushTimeChecks).names()[0]).toBe('policies');
  });

  it('a rollout step skips the denied agent with the policy and reason, applies the others; the dry run agrees; assignment and force push refuse it', async () => {
    const { v1, v2, group, sims } = await e2e.fleet(4, 'pc');
    const denied = sims[1]!;
    const others = sims.filter((s) => s !== denied);
    const policyId = await denyHost('not-pc-001', 'pc-001');

    // the dry run for the two agents, before the push
    const dryDenied = (await expectStatus(api, 'POST', `/api/policies/${policyId}/evaluate`, 200, { agentId: denied.id, versionId: v2.id })).body;
    expect(dryDenied).toMatchObject({ outcome: 'deny', wouldBlock: true, mode: 'required' });
    const dryAllowed = (await expectStatus(api, 'POST', `/api/policies/${policyId}/evaluate`, 200, { agentId: others[0]!.id, versionId: v2.id })).body;
    expect(dryAllowed).toMatchObject({ outcome: 'allow', wouldBlock: false });
    await expectStatus(api, 'POST', `/api/policies/${policyId}/evaluate`, 404, { agentId: '00000000-0000-4000-8000-000000000000', versionId: v2.id });

    const mark = Date.now();
    const rollout = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Canary', steps: [{ percent: 100, dwellSeconds: 0 }] } });
    await act(api, rollout.id, 'start');
    const done = await waitState(api, rollout.id, 'Completed', 30000);
    expect(done.counts).toMatchObject({ total: 4, applied: 3, skipped: 1, failed: 0 });
    const targets = await allTargets(api, rollout.id);
    const skipped = targets.find((t) => t.agentId === denied.id)!;
    expect(skipped).toMatchObject({ state: 'Skipped', reason: expect.stringContaining('not-pc-001'), deniedByPolicy: { id: policyId, name: 'not-pc-001' } });
    for (const s of others) expect(targets.find((t) => t.agentId === s.id)).toMatchObject({ state: 'Applied', deniedByPolicy: null });
    // the push agrees with the dry run: the denied agent never received v2 (not at the step, not when the group adopted it)
    await sleep(500);
    expect(denied.pushesSince(mark, v2.configHash)).toEqual([]);
    for (const s of others) expect(s.pushesSince(mark, v2.configHash)).toHaveLength(1);
    expect(denied.agent.appliedHash?.toString('hex')).toBe(v1.configHash);

    // the denial is on the agent
    const detail = (await expectStatus(api, 'GET', `/api/agents/${denied.id}`, 200)).body;
    expect(detail.pushDenial).toMatchObject({ check: 'policies', policyId, policyName: 'not-pc-001', reason: expect.any(String), at: expect.any(String) });
    expect((await expectStatus(api, 'GET', `/api/agents/${others[0]!.id}`, 200)).body.pushDenial).toBeNull();
    // one audit event per denial, naming the agent
    const audit = (await expectStatus(api, 'GET', `/api/audit/events?entityType=Policy&action=Denied&entityId=${policyId}`, 200)).body.items as Array<{ additional: Record<string, unknown> }>;
    expect(audit.find((e) => e.additional.path === 'rollout-step')?.additional).toMatchObject({ agentId: denied.id, blocked: true, rolloutId: rollout.id, versionId: v2.id });

    // a one-agent assignment of v2 is refused for the denied agent and changes nothing; allowed for another
    const refused = await expectStatus(api, 'POST', `/api/agents/${denied.id}/assign`, 422, { configurationId: v1.configurationId, version: v2.number });
    expect(refused.body).toMatchObject({ code: 'PUSH_DENIED_BY_POLICY', agentId: denied.id, policyId, policyName: 'not-pc-001' });
    expect(refused.body).toMatchObject({ status: 422, title: expect.any(String) });
    const after = (await expectStatus(api, 'GET', `/api/agents/${denied.id}`, 200)).body;
    expect(after.assignment?.source).not.toBe('direct');
    expect(after.pushDenial).toMatchObject({ path: 'assignment', versionId: v2.id });
    await expectStatus(api, 'POST', `/api/agents/${others[0]!.id}/assign`, 200, { configurationId: v1.configurationId, version: v2.number });

    // a bulk force push leaves the denied agent out, names it, and pushes the others
    const forced = (await expectStatus(api, 'POST', '/api/agents/bulk/force-push', 202, { agentIds: sims.map((s) => s.id) })).body;
    expect(forced.dispatch).toMatchObject({ agents: 3, deniedByPolicyCount: 1, deniedByPolicy: [{ agentId: denied.id, policyId, policyName: 'not-pc-001' }] });
    expect((await expectStatus(api, 'GET', `/api/agents/${denied.id}`, 200)).body.pushDenial).toMatchObject({ path: 'force-push' });

    // a group assignment pushes the others and leaves the denied agent out
    const back = (await expectStatus(api, 'PUT', `/api/groups/${group.id}/assignment`, 200, { configurationId: v1.configurationId, version: v1.number })).body;
    expect(back.dispatch).toMatchObject({ deniedByPolicyCount: 1, deniedByPolicy: [{ agentId: denied.id }] });
  });

  it('shadow mode records the denial but pushes (and clears the agent\'s denial)', async () => {
    const { v2, group, sims } = await e2e.fleet(2, 'sh');
    const denied = sims[0]!;
    const policyId = await denyHost('not-sh-000', 'sh-000');
    await expectStatus(api, 'PUT', '/api/policies/settings', 200, { mode: 'shadow', exporterSwap: true, insecureTlsExporter: true });
    try {
      const dry = (await expectStatus(api, 'POST', `/api/policies/${policyId}/evaluate`, 200, { agentId: denied.id, versionId: v2.id })).body;
      expect(dry).toMatchObject({ outcome: 'deny', wouldBlock: false, mode: 'shadow' });
      const mark = Date.now();
      const rollout = await createRollout(api, { configurationId: v2.configurationId, version: v2.number, groupId: group.id, strategy: { type: 'Canary', steps: [{ percent: 100, dwellSeconds: 0 }] } });
      await act(api, rollout.id, 'start');
      const done = await waitState(api, rollout.id, 'Completed', 30000);
      expect(done.counts).toMatchObject({ total: 2, applied: 2, skipped: 0 });
      expect(denied.pushesSince(mark, v2.configHash)).toHaveLength(1);
      expect((await expectStatus(api, 'GET', `/api/agents/${denied.id}`, 200)).body.pushDenial).toBeNull();
      const audit = (await expectStatus(api, 'GET', `/api/audit/events?entityType=Policy&action=Denied&entityId=${policyId}`, 200)).body.items as Array<{ additional: Record<string, unknown> }>;
      expect(audit.find((e) => e.additional.path === 'rollout-step')?.additional).toMatchObject({ agentId: denied.id, mode: 'shadow', blocked: false });
    } finally {
      await expectStatus(api, 'PUT', '/api/policies/settings', 200, { mode: 'required', exporterSwap: true, insecureTlsExporter: true });
    }
  });
});
