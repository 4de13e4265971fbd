

import { AgentCapability, captureLogs, eventually, LogCapture, S2A, TestAgent, TestAgentOptions } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

const config = (signal: string, exporter = 'debug') =>
  `# ${signal} pipeline\nreceivers:\n  otlp: {}\nexporters:\n  ${exporter}: {}\nservice:\n  pipelines:\n    ${signal}:\n      receivers: [otlp]\n      exporters: [${exporter}]\n`;

const bodyOf = (m: S2A) => Buffer.from(Object.values(m.remote_config?.config?.config_map ?? {})[0]?.body ?? Buffer.alloc(0)).toString('utf8');

describe('groups, assignment and bulk actions', () => {
  let server: TestServer;
  let wsUrl: string;
  let logs: LogCapture;
  let viewer: string;
  const agents: TestAgent[] = [];

  beforeAll(async () => {
    logs = captureLogs('Information');
    // the worker's processors run in this process too, so paced pushes reach its sessions
    server = await startTestServer({
      env: { AMPORA_OPAMP_FLUSH_INTERVAL_MS: '100', AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS: '1', AMPORA_FLEET_DISPATCH_RATE: '1000', AMPORA_FLEET_INLINE_PUSH_MAX: '2' },
      withWorker: true,
    });
    wsUrl = `${server.url.replace('http', 'ws')}/v1/opamp`;
    viewer = await createToken(server, 'Viewer');
  });
  afterAll(async () => {
    for (const a of agents) await a.close();
    await server.close();
  });
  afterEach(() => {
    expect(logs.find((r) => r.category === 'Ampora.Platform.Audit.Discipline')).toBeUndefined();
  });

  async function published(yaml: string): Promise<{ configurationId: string; version: number; versionId: string; configHash: string }> {
    const c = (await server.as().post('/api/configurations').send({ name: `cfg-${Math.random().toString(36).slice(2, 9)}` }).expect(201)).body;
    const v = (await server.as().post(`/api/configurations/${c.id}/versions`).send({ yaml }).expect(201)).body;
    await server.as().post(`/api/configurations/${c.id}/versions/${v.number}/publish`).expect(200);
    return { configurationId: c.id, version: v.number, versionId: v.id, configHash: v.configHash };
  }

  async function group(body: Record<string, unknown>): Promise<{ id: string; name: string }> {
    return (await server.as().post('/api/groups').send({ name: `g-${Math.random().toString(36).slice(2, 9)}`, ...body }).expect(201)).body;
  }

  async function enroll(options: Partial<TestAgentOptions> & { tokenBody?: Record<string, unknown> } = {}): Promise<{ agent: TestAgent; id: string; first: S2A }> {
    const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'groups test', ...(options.tokenBody ?? {}) }).expect(201)).body.token;
    const agent = new TestAgent({ url: wsUrl, token, autoApply: true, ...options });
    agents.push(agent);
    await agent.connect();
    agent.hello();
    const first = await agent.next();
    expect(first.error_response).toBeUndefined();
    const id = await eventually(async () => (await server.as().get(`/api/agents?text=${agent.uid.toString('hex').slice(0, 8)}`).expect(200)).body.items[0]?.id as string | undefined);
    return { agent, id, first };
  }

  const detail = async (id: string) => (await server.as().get(`/api/agents/${id}`).expect(200)).body;

  it('lands agents enrolled with a token in its group, with the group\'s config on their first reply', async () => {
    const v = await published(config('traces'));
    const g = await group({ kind: 'Static' });
    await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(200);
    const { id, first } = await enroll({ tokenBody: { groupId: g.id } });
    expect(bodyOf(first)).toBe(config('traces'));
    expect(Buffer.from(first.remote_config!.config_hash!).toString('hex')).toBe(v.configHash);
    const d = await detail(id);
    expect(d).toMatchObject({ groupId: g.id, groupPinned: true, assignment: { source: 'group', versionId: v.versionId, configurationId: v.configurationId, version: v.version } });
    expect((await server.as().get(`/api/agents?groupId=${g.id}`).expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await server.as().get(`/api/groups/${g.id}`).expect(200)).body).toMatchObject({ memberCount: 1, assignment: { versionId: v.versionId, version: v.version } });
    // a token cannot target a group that does not exist
    expect((await server.as().post('/api/bootstrap-tokens').send({ label: 'x', groupId: crypto.randomUUID() }).expect(404)).body.code).toBe('GROUP_NOT_FOUND');
  });

  it('pushes a group assignment to members that accept remote config and names those that do not', async () => {
    const g = await group({ kind: 'Static' });
    const a = await enroll({ tokenBody: { groupId: g.id } });
    const mute = await enroll({ tokenBody: { groupId: g.id }, capabilities: AgentCapability.ReportsStatus | AgentCapability.ReportsHeartbeat });
    const v = await published(config('metrics'));
    const res = (await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(200)).body;
    expect(res).toMatchObject({ changedAgents: 2, dispatch: { mode: 'inline', agents: 2, outcomes: { delivered: 1, cap_mismatch: 1 }, notAcceptingRemoteConfig: [mute.id], notAcceptingRemoteConfigCount: 1 } });
    const pushed = await a.agent.nextMatching((m) => Boolean(m.remote_config));
    expect(bodyOf(pushed)).toBe(config('metrics'));
    // the muted agent keeps the assignment (it is not dropped), it just cannot receive it
    expect((await detail(mute.id)).assignedConfig.hash).toBe(v.configHash);
    await eventually(async () => (await detail(a.id)).remoteConfig.status === 'APPLIED');
    // an assigned version cannot be archived
    expect((await server.as().post(`/api/configurations/${v.configurationId}/versions/${v.version}/archive`).expect(409)).body).toMatchObject({ code: 'CONFIGURATION_VERSION_IN_USE', groups: 1, agents: 2 });
    // only Published versions are assigned
    const c = (await server.as().post('/api/configurations').send({ name: `draft-${Date.now()}` }).expect(201)).body;
    await server.as().post(`/api/configurations/${c.id}/versions`).send({ yaml: config('logs') }).expect(201);
    expect((await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: c.id, version: 1 }).expect(409)).body.code).toBe('CONFIGURATION_VERSION_NOT_PUBLISHED');
    await server.as(viewer).put(`/api/groups/${g.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(403);
  });

  it('places agents that connect with matching attributes in the right dynamic group', async () => {
    const v = await published(config('logs'));
    const low = await group({ kind: 'Dynamic', selector: 'starts-with(region, "eu-")', priority: 1 });
    const high = await group({ kind: 'Dynamic', selector: 'region = "eu-west-1" and tier = "edge"', priority: 7 });
    await server.as().put(`/api/groups/${high.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(200);
    const preview = (await server.as(viewer).post('/api/groups/preview').send({ selector: 'region = "eu-west-1"' }).expect(200)).body;
    expect(preview).toMatchObject({ complete: true, matched: 0 });

    const edge = await enroll({ nonIdentifying: { region: 'eu-west-1', tier: 'edge' } });
    const core = await enroll({ nonIdentifying: { region: 'eu-north-1', tier: 'core' } });
    await eventually(async () => (await detail(edge.id)).groupId === high.id && (await detail(core.id)).groupId === low.id, 15000);
    // joining the group brought its config
    const pushed = await edge.agent.nextMatching((m) => Boolean(m.remote_config), 10000);
    expect(bodyOf(pushed)).toBe(config('logs'));
    expect((await detail(edge.id)).groupPinned).toBe(false);

    const again = (await server.as(viewer).post('/api/groups/preview').send({ selector: 'starts-with(region, "eu-")', limit: 1 }).expect(200)).body;
    expect(again.matched).toBeGreaterThanOrEqual(2);
    expect(again.agents).toHaveLength(1);
    expect(again.failedClosed.missing).toBeGreaterThan(0);
    const invalid = await server.as().post('/api/groups').send({ name: 'bad', kind: 'Dynamic', selector: 'region = ' }).expect(422);
    expect(invalid.body).toMatchObject({ code: 'INVALID_SELECTOR', selectorError: { kind: 'parse', position: 8 } });
    expect((await server.as().post('/api/groups/preview').send({ selector: 'region matches "(a"' }).expect(422)).body.code).toBe('INVALID_SELECTOR');
    await server.as().post('/api/groups').send({ name: 'static-with-selector', kind: 'Static', selector: 'x = 1' }).expect(400);
    await server.as().post('/api/groups').send({ name: 'dynamic-without', kind: 'Dynamic' }).expect(400);

    // an operator's move pins the agent: the selector no longer moves it
    const s = await group({ kind: 'Static' });
    await server.as().post(`/api/agents/${edge.id}/move`).send({ groupId: s.id }).expect(200);
    expect((await server.as().post(`/api/agents/${edge.id}/move`).send({ groupId: high.id }).expect(409)).body.code).toBe('GROUP_IS_DYNAMIC');
    await new Promise((r) => setTimeout(r, 2500));
    expect(await detail(edge.id)).toMatchObject({ groupId: s.id, groupPinned: true });
    // ungrouped, it goes back where its attributes send it
    expect((await server.as().post(`/api/agents/${edge.id}/move`).send({ groupId: null }).expect(200)).body).toMatchObject({ groupId: null });
    await eventually(async () => (await detail(edge.id)).groupId === high.id, 15000);
  });

  it('adds and removes static members atomically, and soft-deletes and restores groups', async () => {
    const from = await group({ kind: 'Static' });
    const to = await group({ kind: 'Static' });
    const a = await enroll({ tokenBody: { groupId: from.id } });
    const b = await enroll();
    const added = (await server.as().post(`/api/groups/${to.id}/members`).send({ agentIds: [a.id, b.id, a.id] }).expect(200)).body;
    expect(added).toMatchObject({ groupId: to.id, added: 2, alreadyMembers: 0, movedFrom: { [from.id]: 1 } });
    expect((await server.as().get(`/api/groups/${from.id}`).expect(200)).body.memberCount).toBe(0);
    expect((await server.as().post(`/api/groups/${to.id}/members`).send({ agentIds: [a.id] }).expect(200)).body).toMatchObject({ added: 0, alreadyMembers: 1 });
    const unknown = crypto.randomUUID();
    const refused = await server.as().post(`/api/groups/${to.id}/members`).send({ agentIds: [a.id, unknown] }).expect(422);
    expect(refused.body).toMatchObject({ code: 'AGENTS_NOT_FOUND', unknownAgentIds: [unknown] });
    const dyn = await group({ kind: 'Dynamic', selector: 'nothing = 1' });
    expect((await server.as().post(`/api/groups/${dyn.id}/members`).send({ agentIds: [a.id] }).expect(409)).body.code).toBe('GROUP_IS_DYNAMIC');

    await server.as().delete(`/api/groups/${to.id}/members/${b.id}`).expect(204);
    expect((await server.as().delete(`/api/groups/${to.id}/members/${b.id}`).expect(404)).body.code).toBe('AGENT_NOT_IN_GROUP');

    const deleted = (await server.as().delete(`/api/groups/${to.id}`).expect(200)).body;
    expect(deleted).toMatchObject({ deletedAt: expect.any(String), memberCount: 0 });
    expect((await detail(a.id)).groupId).toBeNull();
    expect((await server.as().get('/api/groups?deleted=true&limit=500').expect(200)).body.items.map((g: { id: string }) => g.id)).toContain(to.id);
    expect((await server.as().get('/api/groups?limit=500').expect(200)).body.items.map((g: { id: string }) => g.id)).not.toContain(to.id);
    await server.as().patch(`/api/groups/${to.id}`).send({ description: 'x' }).expect(404);
    // a live group took the name meanwhile: restoring would duplicate it
    const clash = await server.as().post('/api/groups').send({ name: to.name, kind: 'Static' }).expect(201);
    expect((await server.as().post(`/api/groups/${to.id}/restore`).expect(409)).body.code).toBe('GROUP_NAME_TAKEN');
    await server.as().delete(`/api/groups/${clash.body.id}`).expect(200);
    const restored = (await server.as().post(`/api/groups/${to.id}/restore`).expect(200)).body;
    expect(restored).toMatchObject({ deletedAt: null, memberCount: 1 });
    expect(await detail(a.id)).toMatchObject({ groupId: to.id, groupPinned: true });
    expect((await server.as().post(`/api/groups/${to.id}/restore`).expect(409)).body.code).toBe('GROUP_NOT_DELETED');

    const audit = (await server.as().get(`/api/audit/events?entityId=${to.id}`).expect(200)).body.items.map((e: { action: string }) => e.action);
    expect(audit.sort()).toEqual(['Created', 'Deleted', 'MemberRemoved', 'MembersAdded', 'MembersAdded', 'Restored'].sort());
  });

  it('lets a direct assignment win over the group\'s, and falls back when it is dropped', async () => {
    const g = await group({ kind: 'Static' });
    const groupVersion = await published(config('traces', 'otlp'));
    const own = await published(config('traces', 'debug/own'));
    await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: groupVersion.configurationId, version: groupVersion.version }).expect(200);
    const { agent, id } = await enroll({ tokenBody: { groupId: g.id } });
    const assigned = (await server.as().post(`/api/agents/${id}/assign`).send({ configurationId: own.configurationId, version: own.version }).expect(200)).body;
    expect(assigned).toMatchObject({ versionId: own.versionId, configHash: own.configHash, delivery: 'delivered' });
    expect(bodyOf(await agent.nextMatching((m) => bodyOf(m) === config('traces', 'debug/own')))).toContain('debug/own');
    // the group changing its version leaves the agent's own assignment alone
    const other = await published(config('logs', 'otlp'));
    expect((await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: other.configurationId, version: other.version }).expect(200)).body.changedAgents).toBe(0);
    const cleared = (await server.as().delete(`/api/agents/${id}/assignment`).expect(200)).body;
    expect(cleared).toMatchObject({ assignment: { source: 'group', versionId: other.versionId }, configHash: other.configHash, delivery: 'delivered' });
    await server.as().post(`/api/agents/${id}/assign`).send({ yaml: 'x: 1\n', configurationId: own.configurationId, version: 1 }).expect(400);
    await server.as().post(`/api/agents/${id}/assign`).send({ configurationId: own.configurationId }).expect(400);
  });

  it('moves, force-pushes and disconnects in bulk, one audit event each', async () => {
    const g = await group({ kind: 'Static' });
    const v = await published(config('metrics', 'otlp/bulk'));
    await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(200);
    const members = await Promise.all([enroll(), enroll(), enroll()]);
    const ids = members.map((m) => m.id);
    // three agents are more than AMPORA_FLEET_INLINE_PUSH_MAX (2): the worker paces the pushes
    const moved = (await server.as().post('/api/agents/bulk/move').send({ agentIds: ids, groupId: g.id }).expect(200)).body;
    expect(moved).toMatchObject({ groupId: g.id, moved: 3, alreadyThere: 0, movedFrom: { none: 3 }, dispatch: { mode: 'paced', agents: 3, pacedJobs: 1 } });
    for (const m of members) expect(bodyOf(await m.agent.nextMatching((x) => Boolean(x.remote_config), 10000))).toContain('otlp/bulk');
    await eventually(async () => (await Promise.all(ids.map(detail))).every((d) => d.remoteConfig.status === 'APPLIED'));

    const pushed = await server.as().post('/api/agents/bulk/force-push').send({ agentIds: ids }).expect(202);
    expect(pushed.body).toMatchObject({ agents: 3, dispatch: { mode: 'paced', notAcceptingRemoteConfigCount: 0 } });
    // forced: sent again although every agent already runs it
    for (const m of members) expect(bodyOf(await m.agent.nextMatching((x) => Boolean(x.remote_config), 10000))).toContain('otlp/bulk');
    expect((await server.as().post('/api/agents/bulk/force-push').send({ agentIds: Array.from({ length: 5001 }, () => crypto.randomUUID()) }).expect(400)).body.code).toBe('VALIDATION_FAILED');

    await server.as().post('/api/agents/bulk/disconnect').send({ agentIds: ids.slice(0, 2) }).expect(202);
    await Promise.all(members.slice(0, 2).map((m) => m.agent.closed(10000)));
    await eventually(async () => (await detail(ids[0]!)).status === 'disconnected');

    const audit = (await server.as().get('/api/audit/events?entityId=bulk&limit=10').expect(200)).body.items;
    expect(audit.slice(0, 3).map((e: { action: string; additional: { agentIds: string[] } }) => [e.action, e.additional.agentIds.length])).toEqual([
      ['Disconnected', 2],
      ['ForcePushed', 3],
      ['Moved', 3],
    ]);
  });

  it('assigns a Published version to agents in bulk, in one audit event, pushing those it changes', async () => {
    const g = await group({ kind: 'Static' });
    const before = await published(config('logs', 'otlp/before'));
    await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: before.configurationId, version: before.version }).expect(200);
    const members = await Promise.all([enroll({ tokenBody: { groupId: g.id } }), enroll({ tokenBody: { groupId: g.id } }), enroll({ tokenBody: { groupId: g.id } })]);
    const ids = members.map((m) => m.id);
    const v = await published(config('logs', 'otlp/bulk-assign'));
    // one already has it directly: assigned again, but not changed
    await server.as().post(`/api/agents/${ids[2]}/assign`).send({ configurationId: v.configurationId, version: v.version }).expect(200);
    await server.as(viewer).post('/api/agents/bulk/assign').send({ agentIds: ids, configurationId: v.configurationId, version: v.version }).expect(403);
    const res = (await server.as().post('/api/agents/bulk/assign').send({ agentIds: [...ids, ids[0]], configurationId: v.configurationId, version: v.version }).expect(200)).body;
    expect(res).toMatchObject({ versionId: v.versionId, configHash: v.configHash, agents: 3, changed: 2, dispatch: { agents: 2 } });
    for (const m of members.slice(0, 2)) expect(bodyOf(await m.agent.nextMatching((x) => Boolean(x.remote_config) && bodyOf(x).includes('otlp/bulk-assign'), 10000))).toContain('otlp/bulk-assign');
    for (const id of ids) expect((await detail(id)).assignment).toMatchObject({ source: 'direct', versionId: v.versionId });
    const audit = (await server.as().get('/api/audit/events?entityType=Agent&entityId=bulk&action=ConfigAssigned&limit=5').expect(200)).body.items;
    expect(audit[0]).toMatchObject({ after: { versionId: v.versionId, version: v.version }, additional: { count: 3, changed: 2 } });
    expect([...audit[0].additional.agentIds].sort()).toEqual([...ids].sort());
    // nothing changes for an unknown agent, a draft version, or too many agents
    const unknown = crypto.randomUUID();
    const refused = await server.as().post('/api/agents/bulk/assign').send({ agentIds: [ids[0], unknown], configurationId: before.configurationId, version: before.version }).expect(422);
    expect(refused.body).toMatchObject({ code: 'AGENTS_NOT_FOUND', unknownAgentIds: [unknown] });
    expect((await detail(ids[0]!)).assignment.versionId).toBe(v.versionId);
    const draft = (await server.as().post(`/api/configurations/${v.configurationId}/versions`).send({ yaml: config('logs', 'otlp/draft') }).expect(201)).body;
    expect((await server.as().post('/api/agents/bulk/assign').send({ agentIds: ids, configurationId: v.configurationId, version: draft.number }).expect(409)).body.code).toBe('CONFIGURATION_VERSION_NOT_PUBLISHED');
    expect((await server.as().post('/api/agents/bulk/assign').send({ agentIds: Array.from({ length: 5001 }, () => crypto.randomUUID()), configurationId: v.configurationId, version: 1 }).expect(400)).body.code).toBe('VALIDATION_FAILED');
  });

  it('filters agents by drift and shows the drift of one agent', async () => {
    const g = await group({ kind: 'Static' });
    const v = await published(config('traces', 'otlp/drift'));
    await server.as().put(`/api/groups/${g.id}/assignment`).send({ configurationId: v.configurationId, version: v.version }).expect(200);
    const { agent, id } = await enroll({ tokenBody: { groupId: g.id }, reportEffective: true });
    await eventually(async () => (await detail(id)).drift === false);
    expect((await server.as().get(`/api/agents?groupId=${g.id}&drift=false`).expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    expect((await server.as().get(`/api/agents?groupId=${g.id}&drift=true`).expect(200)).body.items).toEqual([]);

    agent.reportEffective(config('traces', 'otlp/drift').replace('otlp/drift: {}', 'otlp/drift: {}\n  debug: {}'));
    await eventually(async () => (await detail(id)).drift === true);
    expect((await server.as().get(`/api/agents?groupId=${g.id}&drift=true`).expect(200)).body.items.map((a: { id: string }) => a.id)).toEqual([id]);
    const drift = (await server.as(viewer).get(`/api/agents/${id}/drift`).expect(200)).body;
    expect(drift).toMatchObject({ drift: true, identical: false, assignment: { source: 'group', versionId: v.versionId } });
    expect(drift.semantic.map((c: { summary: string }) => c.summary)).toEqual(['exporter debug added']);
    expect(drift.unified).toContain('+  debug: {}');
  });
});
