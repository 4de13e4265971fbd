import { createToken, startTestServer, TestServer } from './support/test-server';

/** A real collector configuration that follows the house rules: a memory limiter, batching, no debug exporter. */
const GOOD = `receivers:
  otlp:
    protocols:
      grpc: {}
processors:
  memory_limiter: { check_interval: 1s, limit_percentage: 80 }
  batch: {}
exporters:
  otlp/prod:
    endpoint: collector.prod.example.com:4317
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp/prod]
`;
const NO_LIMITER = GOOD.replace('  memory_limiter: { check_interval: 1s, limit_percentage: 80 }\n', '').replace('[memory_limiter, batch]', '[batch]');
const WITH_DEBUG = GOOD.replace('exporters:\n  otlp/prod:', 'exporters:\n  debug: {}\n  otlp/prod:').replace('exporters: [otlp/prod]', 'exporters: [otlp/prod, debug]');

const LIMITER = { name: 'memory-limiter', description: 'every collector limits its memory', expression: 'contains(config.processorTypes, "memory_limiter")', severity: 'Error' };
const NO_DEBUG = { name: 'no-debug', description: 'debug exporters stay on test benches', expression: 'not contains(config.exporterTypes, "debug")', severity: 'Warning' };

/** Tenant lint rules over REST (issue 17 item 3): CRUD, config.* only, run in version validation, Error blocks publishing, four-eyes. */
describe('lint rules', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let operator: string;
  let viewer: string;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
    operator = await createToken(server, 'Operator', 'ops');
    viewer = await createToken(server, 'Viewer', 'view');
  });
  afterAll(() => server?.close());

  async function version(yaml: string): Promise<{ id: string; number: number; findings: Array<Record<string, unknown>>; errorCount: number; warningCount: number }> {
    const c = (await server.as(operator).post('/api/configurations').send({ name: `cfg-${Date.now()}-${Math.random().toString(36).slice(2, 6)}` }).expect(201)).body;
    const v = (await server.as(operator).post(`/api/configurations/${c.id}/versions`).send({ yaml }).expect(201)).body;
    return { ...v, id: c.id };
  }

  it('creates, reads, edits, disables and deletes rules (Admin only); refuses paths outside config.* and bad text', async () => {
    await server.as(operator).post('/api/lint-rules').send(LIMITER).expect(403);
    const foreign = await server.as(alice).post('/api/lint-rules').send({ ...LIMITER, expression: 'agent.group = "edge"' }).expect(400);
    expect(foreign.body.code).toBe('LINT_RULE_EXPRESSION_INVALID');
    expect(foreign.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await server.as(alice).post('/api/lint-rules').send({ ...LIMITER, expression: 'config.x =' }).expect(400)).body.code).toBe('LINT_RULE_EXPRESSION_INVALID');

    const created = (await server.as(alice).post('/api/lint-rules').send({ ...LIMITER, name: 'scratch' }).expect(201)).body;
    expect(created).toMatchObject({ name: 'scratch', status: 'Active', severity: 'Error', pendingChange: null, createdBy: 'alice' });
    expect((await server.as(bob).post('/api/lint-rules').send({ ...LIMITER, name: 'SCRATCH' }).expect(409)).body.code).toBe('LINT_RULE_NAME_TAKEN');
    expect((await server.as(viewer).get(`/api/lint-rules/${created.id}`).expect(200)).body.name).toBe('scratch');
    expect((await server.as(alice).patch(`/api/lint-rules/${created.id}`).send({ severity: 'Info' }).expect(200)).body.severity).toBe('Info');
    expect((await server.as(alice).post(`/api/lint-rules/${created.id}/disable`).expect(200)).body.status).toBe('Disabled');
    expect((await server.as(viewer).get('/api/lint-rules?status=Disabled').expect(200)).body.items.map((r: { name: string }) => r.name)).toEqual(['scratch']);
    expect((await server.as(alice).post(`/api/lint-rules/${created.id}/enable`).expect(200)).body.status).toBe('Active');
    await server.as(alice).delete(`/api/lint-rules/${created.id}`).expect(204);
    expect((await server.as(viewer).get(`/api/lint-rules/${created.id}`).expect(404)).body.code).toBe('LINT_RULE_NOT_FOUND');
    const audit = await server.as().get(`/api/audit/events?entityType=LintRule&entityId=${created.id}`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['Deleted', 'Edited', 'Edited', 'Edited', 'Created']);
  });

  it('runs the Active rules in version validation beside the syntax and semantic checks; an Error blocks publishing, a Warning does not', async () => {
    const limiter = (await server.as(alice).post('/api/lint-rules').send(LIMITER).expect(201)).body;
    const noDebug = (await server.as(alice).post('/api/lint-rules').send(NO_DEBUG).expect(201)).body;

    const bad = await version(NO_LIMITER);
    expect(bad.errorCount).toBe(1);
    expect(bad.findings).toContainEqual({ severity: 'Error', code: 'LINT_RULE', message: 'lint rule memory-limiter: every collector limits its memory', path: '', rule: { id: limiter.id, name: 'memory-limiter' } });
    const refused = await server.as(operator).post(`/api/configurations/${bad.id}/versions/${bad.number}/publish`).expect(422);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'CONFIGURATION_VERSION_LINT_ERRORS', findings: [expect.objectContaining({ code: 'LINT_RULE', rule: { id: limiter.id, name: 'memory-limiter' } })] });

    const warned = await version(WITH_DEBUG);
    expect(warned).toMatchObject({ errorCount: 0, warningCount: 1 });
    expect(warned.findings).toContainEqual(expect.objectContaining({ severity: 'Warning', code: 'LINT_RULE', rule: { id: noDebug.id, name: 'no-debug' } }));
    const published = await server.as(operator).post(`/api/configurations/${warned.id}/versions/${warned.number}/publish`).expect(200);
    expect(published.body.findings).toContainEqual(expect.objectContaining({ code: 'LINT_RULE', severity: 'Warning' }));

    // a semantic error is still its own refusal, with the lint finding beside it
    const broken = await version(NO_LIMITER.replace('exporters: [otlp/prod]', 'exporters: [otlp/missing]'));
    expect(broken.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['UNDEFINED_COMPONENT', 'LINT_RULE']));
    expect((await server.as(operator).post(`/api/configurations/${broken.id}/versions/${broken.number}/publish`).expect(422)).body.code).toBe('CONFIGURATION_VERSION_HAS_ERRORS');

    // publishing checks the rules as they are now: with the rule disabled, the draft publishes
    await server.as(alice).post(`/api/lint-rules/${limiter.id}/disable`).expect(200);
    const now = await server.as(operator).post(`/api/configurations/${bad.id}/versions/${bad.number}/publish`).expect(200);
    expect(now.body.findings.filter((f: { code: string }) => f.code === 'LINT_RULE')).toEqual([]);
    // and a rule enabled after the draft was written blocks it at publish time
    await server.as(alice).post(`/api/lint-rules/${limiter.id}/enable`).expect(200);
    await server.as(alice).post(`/api/lint-rules/${noDebug.id}/disable`).expect(200);
    await server.as(alice).post(`/api/lint-rules/${limiter.id}/disable`).expect(200);
    const later = await version(NO_LIMITER);
    expect(later.errorCount).toBe(0);
    await server.as(alice).post(`/api/lint-rules/${limiter.id}/enable`).expect(200);
    expect((await server.as(operator).post(`/api/configurations/${later.id}/versions/${later.number}/publish`).expect(422)).body.code).toBe('CONFIGURATION_VERSION_LINT_ERRORS');
    // the stored findings stay those of when the draft was written (the refused publish changed nothing)
    const findings = await server.as(viewer).get(`/api/configurations/${later.id}/versions/${later.number}/findings`).expect(200);
    expect(findings.body.findings.map((f: { code: string }) => f.code)).toEqual(['NO_MEMORY_LIMITER']);
  });

  it('with four-eyes mode on, every change waits for another Admin: the author cannot approve, approval applies it, rejection drops it', async () => {
    await server.as(alice).put('/api/policies/settings').send({ mode: 'required', exporterSwap: true, insecureTlsExporter: true, fourEyes: true }).expect(200);
    expect((await server.as(viewer).get('/api/policies/settings').expect(200)).body.fourEyes).toBe(true);

    const proposed = (await server.as(alice).post('/api/lint-rules').send({ ...NO_DEBUG, name: 'four-eyes' }).expect(201)).body;
    expect(proposed).toMatchObject({ status: 'Disabled', pendingChange: { op: 'create', rule: { name: 'four-eyes', status: 'Active' }, proposedBy: 'alice' } });
    const approvalId = proposed.pendingChange.approvalId;
    const request = (await server.as(bob).get(`/api/approvals/${approvalId}`).expect(200)).body;
    expect(request).toMatchObject({ subjectKind: 'LintRule', subjectId: proposed.id, status: 'Pending', diff: { before: null, after: { expression: NO_DEBUG.expression } } });
    expect((await server.as(alice).post(`/api/approvals/${approvalId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    await server.as(bob).post(`/api/approvals/${approvalId}/approve`).send({}).expect(200);
    expect((await server.as(viewer).get(`/api/lint-rules/${proposed.id}`).expect(200)).body).toMatchObject({ status: 'Active', pendingChange: null });
    expect((await version(WITH_DEBUG)).findings).toContainEqual(expect.objectContaining({ rule: { id: proposed.id, name: 'four-eyes' } }));

    // an edit is proposed, not applied; a second edit while pending resets the approval; rejection drops it
    const edit = (await server.as(alice).patch(`/api/lint-rules/${proposed.id}`).send({ severity: 'Error' }).expect(200)).body;
    expect(edit).toMatchObject({ severity: 'Warning', pendingChange: { op: 'update', rule: { severity: 'Error' } } });
    const again = (await server.as(bob).post(`/api/lint-rules/${proposed.id}/disable`).expect(200)).body;
    expect(again.pendingChange).toMatchObject({ op: 'update', rule: { severity: 'Error', status: 'Disabled' }, approvalId: edit.pendingChange.approvalId });
    const reset = (await server.as(viewer).get(`/api/approvals/${edit.pendingChange.approvalId}`).expect(200)).body;
    expect(reset.revision).toBe(2);
    // both authors are barred now: bob edited too
    expect((await server.as(bob).post(`/api/approvals/${reset.id}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    const carol = await createToken(server, 'Admin', 'carol');
    await server.as(carol).post(`/api/approvals/${reset.id}/reject`).send({ reason: 'Error is too strict' }).expect(200);
    expect((await server.as(viewer).get(`/api/lint-rules/${proposed.id}`).expect(200)).body).toMatchObject({ severity: 'Warning', status: 'Active', pendingChange: null });

    // a deletion waits too (202), and happens on approval
    const del = await server.as(alice).delete(`/api/lint-rules/${proposed.id}`).expect(202);
    expect(del.body.pendingChange).toMatchObject({ op: 'delete', rule: null });
    await server.as(carol).post(`/api/approvals/${del.body.pendingChange.approvalId}/approve`).send({}).expect(200);
    await server.as(viewer).get(`/api/lint-rules/${proposed.id}`).expect(404);
    const audit = await server.as().get(`/api/audit/events?entityType=LintRule&entityId=${proposed.id}`).expect(200);
    // events of one transaction may share a millisecond: compare as a multiset
    expect(audit.body.items.map((e: { action: string }) => e.action).sort()).toEqual(['ChangeApplied', 'ChangeProposed', 'ChangeProposed', 'ChangeProposed', 'ChangeProposed', 'ChangeRejected', 'Created', 'Deleted']);
    const rejected = audit.body.items.find((e: { action: string }) => e.action === 'ChangeRejected');
    expect(rejected).toMatchObject({ actor: 'carol', additional: { reason: 'Error is too strict' } });
    await server.as(alice).put('/api/policies/settings').send({ mode: 'required', exporterSwap: true, insecureTlsExporter: true, fourEyes: false }).expect(200);
  });
});
