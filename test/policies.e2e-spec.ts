import { PolicyPushCheck, TenantService, DEFAULT_TENANT } from '@ampora/governance';
import { parse } from 'yaml';
import { metricValue, scrape } from '@ampora/testing';
import { createToken, startTestServer, TestServer } from './support/test-server';

const TODAY = `
receivers: { otlp: { protocols: { grpc: {} } } }
processors: { batch: {} }
exporters:
  otlp/prod: { endpoint: collector.prod.example.com:4317 }
service:
  pipelines:
    traces: { receivers: [otlp], processors: [batch], exporters: [otlp/prod] }
`;
const INSECURE = TODAY.replace('{ endpoint: collector.prod.example.com:4317 }', '{ endpoint: collector.prod.example.com:4317, tls: { insecure: true } }');
const UNBATCHED = TODAY.replace('processors: { batch: {} }', 'processors: { memory_limiter: {} }').replace('processors: [batch]', 'processors: [memory_limiter]');
const agent = { id: 'agent-1', description: {}, capabilities: [], group: 'payments', labels: { region: 'eu-west-1' } };

/** Policies over REST (issue 17 item 1): lifecycle through approvals, dry run, push-time check, required vs shadow. */
describe('policies', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let policyId: string;

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
  });
  afterAll(() => server?.close());

  it('creates a Draft, refuses a bad expression, submits, refuses self-approval, activates on another Admin\'s approval', async () => {
    const bad = await server.as(alice).post('/api/policies').send({ name: 'x', description: '', expression: 'config.exporters ==' }).expect(400);
    expect(bad.body.code).toBe('POLICY_EXPRESSION_INVALID');
    const created = await server.as(alice).post('/api/policies').send({ name: 'batched', description: 'traces are batched', expression: 'contains(config.processorTypes, "batch")' }).expect(201);
    policyId = created.body.id;
    expect(created.body).toMatchObject({ status: 'Draft', createdBy: 'alice' });
    await server.as(bob).post('/api/policies').send({ name: 'Batched', expression: 'true' }).expect(409);

    expect((await server.as(alice).post(`/api/policies/${policyId}/submit`).expect(200)).body.status).toBe('PendingApproval');
    const pending = await server.as(bob).get(`/api/approvals?subjectKind=Policy&subjectId=${policyId}`).expect(200);
    expect(pending.body.items[0]).toMatchObject({ status: 'Pending', diff: { after: { expression: 'contains(config.processorTypes, "batch")' } } });

    expect((await server.as(alice).post(`/api/policies/${policyId}/approve`).send({}).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await server.as(bob).post(`/api/policies/${policyId}/approve`).send({}).expect(200)).body.status).toBe('Active');
    const audit = await server.as().get(`/api/audit/events?entityType=Policy&entityId=${policyId}`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['Activated', 'Submitted', 'Created']);
  });

  it('a metadata edit keeps it Active; an expression edit returns it to Draft; reject sends a pending one back with a reason', async () => {
    expect((await server.as(alice).patch(`/api/policies/${policyId}`).send({ description: 'better words' }).expect(200)).body.status).toBe('Active');
    expect((await server.as(alice).patch(`/api/policies/${policyId}`).send({ expression: 'contains(config.processorTypes, "batch") and tenant = "default"' }).expect(200)).body.status).toBe('Draft');
    await server.as(alice).post(`/api/policies/${policyId}/submit`).expect(200);
    const rejected = await server.as(bob).post(`/api/policies/${policyId}/reject`).send({ reason: 'tenant check is pointless' }).expect(200);
    expect(rejected.body.status).toBe('Draft');
    await server.as(bob).post(`/api/policies/${policyId}/approve`).send({}).expect(409);
    // back to Active for what follows
    await server.as(alice).post(`/api/policies/${policyId}/submit`).expect(200);
    await server.as(bob).post(`/api/policies/${policyId}/approve`).send({}).expect(200);
  });

  it('dry run answers allow/deny with the reason, and agrees with the push-time check', async () => {
    const allow = await server.as().post(`/api/policies/${policyId}/evaluate`).send({ yaml: TODAY, agent }).expect(200);
    expect(allow.body).toMatchObject({ outcome: 'allow', wouldBlock: false, mode: 'required' });
    const deny = await server.as().post(`/api/policies/${policyId}/evaluate`).send({ yaml: UNBATCHED, agent }).expect(200);
    expect(deny.body).toMatchObject({ outcome: 'deny', reason: expect.stringMatching(/batched/), wouldBlock: true });
    // the fleet binds the push context (decision 0275): an unknown agent or version is not found
    await server.as().post(`/api/policies/${policyId}/evaluate`).send({ agentId: 'a', versionId: '00000000-0000-4000-8000-000000000000' }).expect(404);

    const tenantId = (await server.app.get(TenantService).getByName(DEFAULT_TENANT)).id;
    const check = server.app.get(PolicyPushCheck);
    const result = await check.check({ tenantId, path: 'assignment', config: parse(UNBATCHED), targets: [{ agent }, { agent: { ...agent, id: 'agent-2' } }] });
    expect([...result.denied.keys()]).toEqual(['agent-1', 'agent-2']);
    expect(result.denied.get('agent-1')).toMatchObject({ policyId, policyName: 'batched' });
    const ok = await check.check({ tenantId, path: 'assignment', config: parse(TODAY), targets: [{ agent, currentConfig: parse(TODAY) }] });
    expect(ok.denied.size).toBe(0);
    const denied = await server.as().get(`/api/audit/events?entityType=Policy&action=Denied&entityId=${policyId}`).expect(200);
    expect(denied.body.items).toHaveLength(2);
    expect(denied.body.items[0].additional).toMatchObject({ mode: 'required', blocked: true, path: 'assignment' });
    const text = await scrape(server.url);
    expect(metricValue(text, 'ampora_policy_denied_total', { tenant: 'default', policy: 'batched' })).toBe(2);
    expect(metricValue(text, 'ampora_policy_evaluations_total', { tenant: 'default', policy: 'batched', outcome: 'allow' })).toBe(1);
    // a duration per evaluation that ran: the swap of a push's agents without a current config runs once per push (decision 0304)
    expect(metricValue(text, 'ampora_policy_evaluation_duration_seconds_count', { tenant: 'default', policy: 'builtin:exporter-swap' })).toBe(2);
    expect(metricValue(text, 'ampora_policy_evaluations_total', { tenant: 'default', policy: 'builtin:exporter-swap', outcome: 'allow' })).toBe(3);
  });

  it('built-ins deny by default; shadow mode records without blocking; switches turn them off', async () => {
    const tenantId = (await server.app.get(TenantService).getByName(DEFAULT_TENANT)).id;
    const check = server.app.get(PolicyPushCheck);
    const insecure = await check.check({ tenantId, path: 'force-push', config: parse(INSECURE), targets: [{ agent }] });
    expect(insecure.denied.get('agent-1')).toMatchObject({ policyName: 'builtin:insecure-tls-exporter' });

    await server.as().put('/api/policies/settings').send({ mode: 'shadow', exporterSwap: true, insecureTlsExporter: true }).expect(200);
    expect((await check.check({ tenantId, path: 'force-push', config: parse(INSECURE), targets: [{ agent }] })).denied.size).toBe(0);
    const shadow = await server.as().get('/api/audit/events?entityType=Policy&action=Denied&limit=1').expect(200);
    expect(shadow.body.items[0].additional).toMatchObject({ mode: 'shadow', blocked: false });

    await server.as().put('/api/policies/settings').send({ mode: 'required', exporterSwap: true, insecureTlsExporter: false }).expect(200);
    expect((await check.check({ tenantId, path: 'force-push', config: parse(INSECURE), targets: [{ agent }] })).denied.size).toBe(0);
    expect((await server.as().get('/api/policies/settings').expect(200)).body).toEqual({ mode: 'required', exporterSwap: true, insecureTlsExporter: false, fourEyes: false });

    expect((await server.as().post(`/api/policies/${policyId}/disable`).expect(200)).body.status).toBe('Disabled');
    expect((await check.check({ tenantId, path: 'assignment', config: parse(UNBATCHED), targets: [{ agent }] })).denied.size).toBe(0);
  });
});
