import { createToken, startTestServer, TestServer } from './support/test-server';

const YAML = (tag: string) => `receivers:\n  otlp: {}\nexporters:\n  debug/${tag}: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug/${tag}]\n`;

/**
 * Tenant-defined approval rules (issue 17 item 2, decision 0365) against real PostgreSQL: the rules'
 * REST surface, and `rollout.start` gated by a rule — the start waits (202, still Pending), its
 * author cannot approve it, another person's approval starts it exactly once, a rejection fails it
 * (it never started; its group is free, decision 0411), a condition that does not match lets the start through at once, and an erring one holds it.
 */
describe('approval rules', () => {
  let server: TestServer;
  let alice: string; // Admin
  let bob: string; // Admin
  let olga: string; // Operator
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
    olga = await createToken(server, 'Operator', 'olga');
    viewer = await createToken(server, 'Viewer', 'vera');
  });
  afterAll(() => server?.close());

  /** A Pending rollout of a fresh Published version to a fresh (empty) static group named `groupName`. */
  async function pendingRollout(groupName: string): Promise<{ id: string; name: string }> {
    const c = (await server.as(alice).post('/api/configurations').send({ name: `cfg-${groupName}` }).expect(201)).body;
    const v = (await server.as(alice).post(`/api/configurations/${c.id}/versions`).send({ yaml: YAML(groupName) }).expect(201)).body;
    await server.as(alice).post(`/api/configurations/${c.id}/versions/${v.number}/publish`).expect(200);
    const g = (await server.as(alice).post('/api/groups').send({ name: groupName, kind: 'Static' }).expect(201)).body;
    return (await server.as(olga).post('/api/rollouts').send({ name: `start ${groupName}`, configurationId: c.id, version: v.number, groupId: g.id }).expect(201)).body;
  }

  it('keeps rules per tenant over REST: Admin writes, Viewer reads, conditions checked against the operation', async () => {
    const body = { name: 'scratch', operation: 'rollout.start', condition: 'group.name matches "scratch-.*"' };
    expect((await server.as(olga).post('/api/approval-rules').send(body).expect(403)).body.code).toBeDefined();
    const bad = await server.as(alice).post('/api/approval-rules').send({ ...body, condition: 'config.yaml has-key "x"' }).expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(bad.body.code).toBe('APPROVAL_RULE_CONDITION_INVALID');
    expect((await server.as(alice).post('/api/approval-rules').send({ ...body, operation: 'agent.delete' }).expect(400)).body.code).toBe('VALIDATION_FAILED');
    const created = (await server.as(alice).post('/api/approval-rules').send(body).expect(201)).body;
    expect(created).toMatchObject({ name: 'scratch', operation: 'rollout.start', requiredRole: 'Operator', status: 'Active', createdBy: 'alice' });
    expect((await server.as(bob).post('/api/approval-rules').send({ ...body, name: 'SCRATCH' }).expect(409)).body.code).toBe('APPROVAL_RULE_NAME_TAKEN');
    expect((await server.as(viewer).get(`/api/approval-rules/${created.id}`).expect(200)).body.condition).toBe(body.condition);
    expect((await server.as(alice).patch(`/api/approval-rules/${created.id}`).send({ requiredRole: 'Admin' }).expect(200)).body.requiredRole).toBe('Admin');
    expect((await server.as(alice).post(`/api/approval-rules/${created.id}/disable`).expect(200)).body.status).toBe('Disabled');
    expect((await server.as(viewer).get('/api/approval-rules?status=Disabled').expect(200)).body.items.map((r: { name: string }) => r.name)).toEqual(['scratch']);
    await server.as(alice).delete(`/api/approval-rules/${created.id}`).expect(204);
    expect((await server.as(viewer).get(`/api/approval-rules/${created.id}`).expect(404)).body.code).toBe('APPROVAL_RULE_NOT_FOUND');
    const audit = await server.as().get(`/api/audit/events?entityType=ApprovalRule&entityId=${created.id}`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['Deleted', 'Edited', 'Edited', 'Created']);
  });

  it('holds a start a rule matches until another person approves it, then starts it exactly once', async () => {
    const rule = (await server.as(alice).post('/api/approval-rules').send({ name: 'prod starts', operation: 'rollout.start', condition: 'group.name matches "prod-.*"' }).expect(201)).body;
    try {
      const r = await pendingRollout('prod-eu-1');
      const asked = await server.as(olga).post(`/api/rollouts/${r.id}/start`).expect(202);
      expect(asked.body.rollout).toMatchObject({ id: r.id, state: 'Pending', startedAt: null });
      const approvalId = asked.body.approvalId as string;
      const request = (await server.as(bob).get(`/api/approvals/${approvalId}`).expect(200)).body;
      expect(request).toMatchObject({ subjectKind: 'Custom', subjectId: `rollout.start:${r.id}`, status: 'Pending', requiredRole: 'Operator', authors: [{ actor: 'olga' }] });
      expect(request.diff.after).toMatchObject({ operation: 'rollout.start', state: 'InProgress', group: { name: 'prod-eu-1' }, rules: [{ id: rule.id, name: 'prod starts' }] });
      expect((await server.as(viewer).get(`/api/rollouts/${r.id}`).expect(200)).body.state).toBe('Pending');

      // asked again while pending: the same request, reset (revision 2), the second asker joins the authors
      const again = await server.as(alice).post(`/api/rollouts/${r.id}/start`).expect(202);
      expect(again.body.approvalId).toBe(approvalId);
      expect((await server.as(bob).get(`/api/approvals/${approvalId}`).expect(200)).body).toMatchObject({ revision: 2, authors: [{ actor: 'olga' }, { actor: 'alice' }] });

      // the authors cannot decide it
      expect((await server.as(olga).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await server.as(alice).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await server.as(viewer).get(`/api/rollouts/${r.id}`).expect(200)).body.state).toBe('Pending');

      const approved = await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({ revision: 2 }).expect(200);
      expect(approved.body).toMatchObject({ status: 'Approved', decidedBy: { actor: 'bob' } });
      const started = (await server.as(viewer).get(`/api/rollouts/${r.id}`).expect(200)).body;
      expect(started.state).not.toBe('Pending');
      expect(started.startedAt).not.toBeNull();
      await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(409);

      // exactly one start, by the approval: its audit row names the request
      const transitions = await server.as().get(`/api/audit/events?entityType=Rollout&entityId=${r.id}&action=InProgress`).expect(200);
      expect(transitions.body.items).toHaveLength(1);
      expect(transitions.body.items[0]).toMatchObject({ actor: 'bob', additional: { approvalId } });
      const decision = await server.as().get(`/api/audit/events?entityType=ApprovalRequest&entityId=${approvalId}&action=Approved`).expect(200);
      expect(decision.body.items[0]).toMatchObject({ actor: 'bob', additional: { authors: [{ actor: 'olga' }, { actor: 'alice' }], decider: { actor: 'bob' } } });
    } finally {
      await server.as(alice).delete(`/api/approval-rules/${rule.id}`).expect(204);
    }
  });

  it('fails a rejected start (never started, the decider its actor); lets a start the condition does not match through at once', async () => {
    const rule = (await server.as(alice).post('/api/approval-rules').send({ name: 'staging starts', operation: 'rollout.start', condition: 'group.name matches "staging-.*"', requiredRole: 'Admin' }).expect(201)).body;
    try {
      const held = await pendingRollout('staging-1');
      const asked = await server.as(olga).post(`/api/rollouts/${held.id}/start`).expect(202);
      const approvalId = asked.body.approvalId as string;
      // the rule asks for an Admin: an Operator who is not the author still cannot decide
      const olgaTwo = await createToken(server, 'Operator', 'oscar');
      expect((await server.as(olgaTwo).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('APPROVAL_ROLE_REQUIRED');
      await server.as(bob).post(`/api/approvals/${approvalId}/reject`).send({ reason: 'not this week' }).expect(200);
      expect((await server.as(viewer).get(`/api/rollouts/${held.id}`).expect(200)).body).toMatchObject({ state: 'Failed', startedAt: null });
      const transitions = await server.as().get(`/api/audit/events?entityType=Rollout&entityId=${held.id}&action=InProgress`).expect(200);
      expect(transitions.body.items).toHaveLength(0);
      const failed = await server.as().get(`/api/audit/events?entityType=Rollout&entityId=${held.id}&action=Failed`).expect(200);
      expect(failed.body.items).toEqual([expect.objectContaining({ actor: 'bob', additional: expect.objectContaining({ approvalId, reason: 'not this week' }) })]);

      const free = await pendingRollout('dev-1');
      const startedNow = await server.as(olga).post(`/api/rollouts/${free.id}/start`).expect(200);
      expect(startedNow.body).toMatchObject({ id: free.id });
      expect(startedNow.body.state).not.toBe('Pending');
      expect(startedNow.body.approvalId).toBeUndefined();
    } finally {
      await server.as(alice).delete(`/api/approval-rules/${rule.id}`).expect(204);
    }
  });

  it('holds a start whose rule cannot be evaluated (fail closed), naming why', async () => {
    const rule = (await server.as(alice).post('/api/approval-rules').send({ name: 'typo', operation: 'rollout.start', condition: 'group.labels.tier = "gold"' }).expect(201)).body;
    try {
      const r = await pendingRollout('any-1');
      const asked = await server.as(olga).post(`/api/rollouts/${r.id}/start`).expect(202);
      const request = (await server.as(bob).get(`/api/approvals/${asked.body.approvalId}`).expect(200)).body;
      expect(request.diff.after.rules).toEqual([expect.objectContaining({ id: rule.id, name: 'typo', failedClosed: expect.any(String) })]);
    } finally {
      await server.as(alice).delete(`/api/approval-rules/${rule.id}`).expect(204);
    }
  });
});
