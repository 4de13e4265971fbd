import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, S2A, TestAgent } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

const YAML = (exporter: string) => `receivers:\n  otlp: {}\nexporters:\n  ${exporter}: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [${exporter}]\n`;
const bodyOf = (m: S2A) => Buffer.from(Object.values(m.remote_config?.config?.config_map ?? {})[0]?.body ?? Buffer.alloc(0)).toString('utf8');
const PAT = 'glpat-ApprovalHeldToken0123456789';

type Audit = { actor: string; action: string; additional: Record<string, unknown> | null };

/**
 * Tenant approval rules on the operations wired after rollout.start (decisions 0400–0403), against
 * real PostgreSQL and Redis with the worker's processors in the process: for each of
 * configuration.publish, group.assignment, agent.force-push and gitops.source.edit, a rule that
 * applies holds the operation (202 + a pending request, nothing done), its author cannot approve,
 * another person's approval carries it out (audited with the decider and the request's id), a
 * rejection leaves everything as it was, and a condition that does not match lets it through at once.
 */
describe('approval rules on publish, group assignment, force-push and GitOps sources', () => {
  let server: TestServer;
  let dataDir: string;
  let alice: string; // Admin
  let bob: string; // Admin
  let olga: string; // Operator
  let viewer: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ampora-approval-ops-'));
    server = await startTestServer({
      withWorker: true,
      env: { AMPORA_DATA_DIR: dataDir, AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_FLEET_DISPATCH_RATE: '1000', AMPORA_FLEET_INLINE_PUSH_MAX: '2' },
    });
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
    olga = await createToken(server, 'Operator', 'olga');
    viewer = await createToken(server, 'Viewer', 'vera');
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function withRule(body: Record<string, unknown>, work: (rule: { id: string }) => Promise<void>): Promise<void> {
    const rule = (await server.as(alice).post('/api/approval-rules').send(body).expect(201)).body;
    try {
      await work(rule);
    } finally {
      await server.as(alice).delete(`/api/approval-rules/${rule.id}`).expect(204);
    }
  }

  async function draft(name: string, exporter = `debug/${name}`): Promise<{ configurationId: string; number: number; versionId: string }> {
    const c = (await server.as(alice).post('/api/configurations').send({ name }).expect(201)).body;
    const v = (await server.as(alice).post(`/api/configurations/${c.id}/versions`).send({ yaml: YAML(exporter) }).expect(201)).body;
    return { configurationId: c.id, number: v.number, versionId: v.id };
  }

  async function published(name: string, exporter?: string) {
    const d = await draft(name, exporter);
    await server.as(alice).post(`/api/configurations/${d.configurationId}/versions/${d.number}/publish`).expect(200);
    return d;
  }

  async function enroll(groupId?: string): Promise<{ agent: TestAgent; id: string; first: S2A }> {
    const token = (await server.as(alice).post('/api/bootstrap-tokens').send({ label: 'approval ops', ...(groupId ? { groupId } : {}) }).expect(201)).body.token;
    const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, autoApply: true });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(first.error_response).toBeUndefined();
    const id = await eventually(async () => (await server.as(viewer).get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    return { agent, id, first };
  }

  /** No remote config reaches the agent for `ms` (what a held operation must not send). */
  async function nothingPushed(agent: TestAgent, ms = 800): Promise<void> {
    await expect(agent.nextMatching((m) => Boolean(m.remote_config), ms)).rejects.toThrow(/in time/);
  }

  async function audit(query: string): Promise<Audit[]> {
    return (await server.as(alice).get(`/api/audit/events?${query}`).expect(200)).body.items;
  }

  async function approval(id: string) {
    return (await server.as(viewer).get(`/api/approvals/${id}`).expect(200)).body;
  }

  it('configuration.publish: holds a matching publication as Draft until another person approves it; a rejection leaves it Draft', async () => {
    await withRule({ name: 'prod publications', operation: 'configuration.publish', condition: 'configuration.name matches "prod-.*" and version.number >= 1' }, async (rule) => {
      const v1 = await draft('prod-app');
      const asked = await server.as(olga).post(`/api/configurations/${v1.configurationId}/versions/1/publish`).expect(202);
      expect(asked.body.version).toMatchObject({ id: v1.versionId, number: 1, status: 'Draft', publishedAt: null });
      const approvalId = asked.body.approvalId as string;
      expect(await approval(approvalId)).toMatchObject({
        subjectKind: 'Custom',
        subjectId: `configuration.publish:${v1.versionId}`,
        status: 'Pending',
        requiredRole: 'Operator',
        authors: [{ actor: 'olga' }],
        diff: { after: { operation: 'configuration.publish', status: 'Published', configuration: { name: 'prod-app' }, version: { number: 1 }, rules: [{ id: rule.id }] } },
      });
      expect((await server.as(viewer).get(`/api/configurations/${v1.configurationId}/versions/1`).expect(200)).body.status).toBe('Draft');

      expect((await server.as(olga).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await server.as(viewer).get(`/api/configurations/${v1.configurationId}/versions/1`).expect(200)).body.status).toBe('Draft');
      await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(200);
      expect((await server.as(viewer).get(`/api/configurations/${v1.configurationId}/versions/1`).expect(200)).body).toMatchObject({ status: 'Published', publishedBy: 'bob' });
      const publishedRows = await audit(`entityType=ConfigurationVersion&entityId=${v1.versionId}&action=Published`);
      expect(publishedRows).toHaveLength(1);
      expect(publishedRows[0]).toMatchObject({ actor: 'bob', additional: { approvalId } });

      // a second version, rejected: it stays Draft and nothing is published
      const v2 = (await server.as(alice).post(`/api/configurations/${v1.configurationId}/versions`).send({ yaml: YAML('debug/prod-app-2') }).expect(201)).body;
      const second = (await server.as(olga).post(`/api/configurations/${v1.configurationId}/versions/${v2.number}/publish`).expect(202)).body.approvalId as string;
      await server.as(bob).post(`/api/approvals/${second}/reject`).send({ reason: 'not yet' }).expect(200);
      expect((await server.as(viewer).get(`/api/configurations/${v1.configurationId}/versions/${v2.number}`).expect(200)).body.status).toBe('Draft');
      expect(await audit(`entityType=ConfigurationVersion&entityId=${v2.id}&action=Published`)).toHaveLength(0);

      // a configuration the condition does not match is published at once
      const dev = await draft('dev-app');
      const now = await server.as(olga).post(`/api/configurations/${dev.configurationId}/versions/1/publish`).expect(200);
      expect(now.body).toMatchObject({ id: dev.versionId, status: 'Published', publishedBy: 'olga' });
      expect(now.body.approvalId).toBeUndefined();
    });
  });

  it('group.assignment: holds a matching assignment (nothing assigned or pushed) until another person approves it, then pushes it', async () => {
    const v1 = await published('edge-config-1', 'debug/edge-one');
    const v2 = await published('edge-config-2', 'debug/edge-two');
    const prod = (await server.as(alice).post('/api/groups').send({ name: 'prod-edge', kind: 'Static' }).expect(201)).body;
    const member = await enroll(prod.id);
    await withRule({ name: 'prod assignments', operation: 'group.assignment', condition: 'group.name matches "prod-.*"' }, async () => {
      const asked = await server.as(olga).put(`/api/groups/${prod.id}/assignment`).send({ configurationId: v1.configurationId, version: v1.number }).expect(202);
      expect(asked.body.group).toMatchObject({ id: prod.id, assignment: null, memberCount: 1 });
      const approvalId = asked.body.approvalId as string;
      expect(await approval(approvalId)).toMatchObject({
        subjectId: `group.assignment:${prod.id}`,
        diff: { after: { operation: 'group.assignment', group: { name: 'prod-edge', members: 1 }, configuration: { id: v1.configurationId, name: 'edge-config-1' }, version: { number: 1 } } },
      });
      await nothingPushed(member.agent);
      expect((await server.as(olga).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await server.as(viewer).get(`/api/groups/${prod.id}`).expect(200)).body.assignment).toBeNull();

      await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(200);
      expect((await server.as(viewer).get(`/api/groups/${prod.id}`).expect(200)).body.assignment).toMatchObject({ versionId: v1.versionId });
      expect(bodyOf(await member.agent.nextMatching((m) => Boolean(m.remote_config), 10000))).toContain('debug/edge-one');
      const set = await audit(`entityType=Group&entityId=${prod.id}&action=AssignmentSet`);
      expect(set).toHaveLength(1);
      expect(set[0]).toMatchObject({ actor: 'bob', additional: { approvalId, changedAgents: 1 } });

      // another version asked, rejected: the group keeps the first, nothing is pushed
      const other = (await server.as(olga).put(`/api/groups/${prod.id}/assignment`).send({ configurationId: v2.configurationId, version: v2.number }).expect(202)).body.approvalId as string;
      await server.as(bob).post(`/api/approvals/${other}/reject`).send({ reason: 'wrong version' }).expect(200);
      expect((await server.as(viewer).get(`/api/groups/${prod.id}`).expect(200)).body.assignment).toMatchObject({ versionId: v1.versionId });
      await nothingPushed(member.agent);
      expect(await audit(`entityType=Group&entityId=${prod.id}&action=AssignmentSet`)).toHaveLength(1);

      // a group the condition does not match is assigned at once
      const dev = (await server.as(alice).post('/api/groups').send({ name: 'dev-edge', kind: 'Static' }).expect(201)).body;
      const now = await server.as(olga).put(`/api/groups/${dev.id}/assignment`).send({ configurationId: v2.configurationId, version: v2.number }).expect(200);
      expect(now.body).toMatchObject({ group: { id: dev.id, assignment: { versionId: v2.versionId } }, changedAgents: 0 });
      expect(now.body.approvalId).toBeUndefined();
    });
  });

  it('agent.force-push: holds a matching force-push (nothing sent) until another person approves it, then sends it', async () => {
    const v = await published('fp-config', 'debug/fp');
    const prod = (await server.as(alice).post('/api/groups').send({ name: 'prod-fp', kind: 'Static' }).expect(201)).body;
    await server.as(alice).put(`/api/groups/${prod.id}/assignment`).send({ configurationId: v.configurationId, version: v.number }).expect(200);
    const members = [await enroll(prod.id), await enroll(prod.id)];
    for (const m of members) expect(bodyOf(m.first)).toContain('debug/fp');
    const ids = members.map((m) => m.id);
    const loner = await enroll();
    await withRule({ name: 'prod force-push', operation: 'agent.force-push', condition: 'contains(agents.groups, "prod-fp")', requiredRole: 'Admin' }, async () => {
      const asked = await server.as(olga).post('/api/agents/bulk/force-push').send({ agentIds: ids }).expect(202);
      expect(asked.body).toEqual({ agents: 2, approvalId: expect.any(String) });
      const approvalId = asked.body.approvalId as string;
      const request = await approval(approvalId);
      expect(request).toMatchObject({ subjectId: expect.stringMatching(/^agent\.force-push:[0-9a-f]{64}$/), requiredRole: 'Admin', diff: { after: { operation: 'agent.force-push', agents: { count: 2, groups: ['prod-fp'] }, configurations: ['fp-config'] } } });
      expect(request.diff.after.agents.ids).toEqual([...ids].sort());
      for (const m of members) await nothingPushed(m.agent);
      // the same agents asked again while pending: the same request, reset
      expect((await server.as(alice).post('/api/agents/bulk/force-push').send({ agentIds: [...ids].reverse() }).expect(202)).body.approvalId).toBe(approvalId);
      expect((await server.as(olga).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect((await server.as(alice).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      expect(await audit('entityType=Agent&entityId=bulk&action=ForcePushed')).toHaveLength(0);

      await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(200);
      for (const m of members) expect(bodyOf(await m.agent.nextMatching((x) => Boolean(x.remote_config), 10000))).toContain('debug/fp');
      const pushed = await audit('entityType=Agent&entityId=bulk&action=ForcePushed');
      expect(pushed).toHaveLength(1);
      expect(pushed[0]).toMatchObject({ actor: 'bob', additional: { approvalId, count: 2 } });
      expect((pushed[0]!.additional!.agentIds as string[]).sort()).toEqual([...ids].sort());

      // asked again and rejected: nothing is sent
      const again = (await server.as(olga).post('/api/agents/bulk/force-push').send({ agentIds: ids }).expect(202)).body.approvalId as string;
      expect(again).not.toBe(approvalId);
      await server.as(bob).post(`/api/approvals/${again}/reject`).send({ reason: 'no' }).expect(200);
      for (const m of members) await nothingPushed(m.agent);
      expect(await audit('entityType=Agent&entityId=bulk&action=ForcePushed')).toHaveLength(1);

      // agents the condition does not match are force-pushed at once
      const now = await server.as(olga).post('/api/agents/bulk/force-push').send({ agentIds: [loner.id] }).expect(202);
      expect(now.body).toMatchObject({ agents: 1, dispatch: { mode: 'paced' } });
      expect(now.body.approvalId).toBeUndefined();
      expect(await audit('entityType=Agent&entityId=bulk&action=ForcePushed')).toHaveLength(2);
    });
  });

  it('gitops.source.edit: holds a matching creation and edit (nothing created or changed, the credential never shown) until another Admin approves', async () => {
    await withRule({ name: 'prod sources', operation: 'gitops.source.edit', condition: 'source.name matches "prod-.*"' }, async () => {
      const asked = await server.as(alice).post('/api/gitops/sources').send({ name: 'prod-src', repositoryUrl: 'https://git.example.test/acme/prod.git', credentialKind: 'Pat', credential: PAT, pollIntervalSeconds: 900 }).expect(202);
      expect(asked.body.source).toMatchObject({ name: 'prod-src', branch: 'main', credentialKind: 'Pat', hasCredential: true, status: 'Active' });
      const sourceId = asked.body.source.id as string;
      const approvalId = asked.body.approvalId as string;
      await server.as(alice).get(`/api/gitops/sources/${sourceId}`).expect(404);
      const request = await approval(approvalId);
      expect(request).toMatchObject({ subjectId: `gitops.source.edit:${sourceId}`, diff: { after: { operation: 'gitops.source.edit', source: { name: 'prod-src', repositoryUrl: 'https://git.example.test/acme/prod.git', change: 'create', credentialKind: 'Pat' } } } });
      expect(request.diff.after.source.fields).toContain('credential');
      expect(JSON.stringify(request)).not.toContain(PAT);

      expect((await server.as(alice).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
      await server.as(alice).get(`/api/gitops/sources/${sourceId}`).expect(404);
      await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(200);
      expect((await server.as(alice).get(`/api/gitops/sources/${sourceId}`).expect(200)).body).toMatchObject({ id: sourceId, name: 'prod-src', hasCredential: true, createdBy: 'alice' });
      const created = await audit(`entityType=GitSource&entityId=${sourceId}&action=Created`);
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({ actor: 'bob', additional: { approvalId } });

      // an edit, rejected: the source stays as it was
      const edit = await server.as(alice).patch(`/api/gitops/sources/${sourceId}`).send({ branch: 'release' }).expect(202);
      expect(edit.body.source).toMatchObject({ id: sourceId, branch: 'main' });
      expect((await approval(edit.body.approvalId)).diff).toMatchObject({ before: { source: { branch: 'main' } }, after: { source: { branch: 'release', change: 'update', fields: ['branch'] } } });
      await server.as(bob).post(`/api/approvals/${edit.body.approvalId}/reject`).send({ reason: 'release is frozen' }).expect(200);
      expect((await server.as(alice).get(`/api/gitops/sources/${sourceId}`).expect(200)).body.branch).toBe('main');
      expect(await audit(`entityType=GitSource&entityId=${sourceId}&action=Updated`)).toHaveLength(0);

      // asked again, approved: made by the decider
      const again = await server.as(alice).patch(`/api/gitops/sources/${sourceId}`).send({ branch: 'release', credential: `${PAT}-2` }).expect(202);
      await server.as(bob).post(`/api/approvals/${again.body.approvalId}/approve`).send({}).expect(200);
      expect((await server.as(alice).get(`/api/gitops/sources/${sourceId}`).expect(200)).body).toMatchObject({ branch: 'release', hasCredential: true });
      const updated = await audit(`entityType=GitSource&entityId=${sourceId}&action=Updated`);
      expect(updated).toHaveLength(1);
      expect(updated[0]).toMatchObject({ actor: 'bob', additional: { approvalId: again.body.approvalId } });
      expect(JSON.stringify(await audit('limit=200'))).not.toContain(PAT);

      // a source the condition does not match is created at once
      const now = await server.as(alice).post('/api/gitops/sources').send({ name: 'dev-src', repositoryUrl: 'https://git.example.test/acme/dev.git', pollIntervalSeconds: 900 }).expect(201);
      expect(now.body).toMatchObject({ name: 'dev-src' });
      expect(now.body.approvalId).toBeUndefined();
    });
  });
});
