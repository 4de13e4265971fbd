import { Principal, RequestContext, TransactionRunner } from '@ampora/platform';
import { ApprovalService, ApprovalSubjectKind, DEFAULT_TENANT, TenantService } from '@ampora/governance';
import { createToken, startTestServer, TestServer } from './support/test-server';

/**
 * Four-eyes approvals over REST (issue 17 item 2): self-approval refused for PAT and OIDC identities,
 * approve and reject paths, an edit while pending resets the approval, the audit rows carry both
 * identities, the diff and the reason.
 */
describe('approvals', () => {
  let server: TestServer;
  let alice: string;
  let bob: string;
  let operator: string;
  let tenantId: string;

  /** Opens (or resets) a request as `actor`, the way a domain does inside its own transaction. */
  async function requestAs(actor: Principal, subjectId: string, after: unknown): ReturnType<ApprovalService['request']> {
    const approvals = server.app.get(ApprovalService);
    return RequestContext.run({ principal: actor }, () =>
      server.app.get(TransactionRunner).run((tx) => approvals.request(tx, actor, { subjectKind: ApprovalSubjectKind.Custom, subjectId, title: `change ${subjectId}`, before: { limit: 1 }, after })),
    );
  }
  const pat = (name: string): Principal => ({ kind: 'pat', tenantId, tenantName: 'default', role: 'Admin', actor: name });

  beforeAll(async () => {
    server = await startTestServer();
    alice = await createToken(server, 'Admin', 'alice');
    bob = await createToken(server, 'Admin', 'bob');
    operator = await createToken(server, 'Operator', 'olga');
    tenantId = (await server.app.get(TenantService).getByName(DEFAULT_TENANT)).id;
  });
  afterAll(() => server?.close());

  it('refuses the author (a PAT) with 403 SELF_APPROVAL_FORBIDDEN, lets another Admin approve, and audits both identities with the diff', async () => {
    const req = await requestAs(pat('alice'), 'subject-1', { limit: 2 });
    const listed = await server.as(bob).get('/api/approvals?subjectKind=Custom').expect(200);
    expect(listed.body.items.map((a: { id: string }) => a.id)).toContain(req.id);
    const got = await server.as(bob).get(`/api/approvals/${req.id}`).expect(200);
    expect(got.body).toMatchObject({ status: 'Pending', revision: 1, diff: { before: { limit: 1 }, after: { limit: 2 } }, authors: [{ actor: 'alice', kind: 'pat' }] });

    const self = await server.as(alice).post(`/api/approvals/${req.id}/approve`).send({}).expect(403);
    expect(self.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(self.body.code).toBe('SELF_APPROVAL_FORBIDDEN');

    const lowRole = await server.as(operator).post(`/api/approvals/${req.id}/approve`).send({}).expect(403);
    expect(lowRole.body.code).toBe('APPROVAL_ROLE_REQUIRED');

    const ok = await server.as(bob).post(`/api/approvals/${req.id}/approve`).send({ revision: 1, comment: 'fine' }).expect(200);
    expect(ok.body).toMatchObject({ status: 'Approved', decidedBy: { actor: 'bob', kind: 'pat', role: 'Admin' } });
    await server.as(bob).post(`/api/approvals/${req.id}/approve`).send({}).expect(409);

    const audit = await server.as().get(`/api/audit/events?entityType=ApprovalRequest&entityId=${req.id}`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['Approved', 'Requested']);
    expect(audit.body.items[0]).toMatchObject({
      actor: 'bob',
      additional: { authors: [{ actor: 'alice' }], decider: { actor: 'bob', kind: 'pat' }, diff: { before: { limit: 1 }, after: { limit: 2 } }, reason: 'fine' },
    });
  });

  it('refuses an OIDC author whose subject matches, and rejects with a reason from someone else', async () => {
    const oidcAlice: Principal = { kind: 'oidc', tenantId, tenantName: 'default', role: 'Admin', actor: 'bob' };
    const req = await requestAs(oidcAlice, 'subject-2', { limit: 3 });
    // the PAT named like the OIDC subject is the same person
    expect((await server.as(bob).post(`/api/approvals/${req.id}/reject`).send({ reason: 'no' }).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect((await server.as(alice).post(`/api/approvals/${req.id}/reject`).send({}).expect(400)).body.code).toBe('VALIDATION_FAILED');
    const rejected = await server.as(alice).post(`/api/approvals/${req.id}/reject`).send({ reason: 'limit too high' }).expect(200);
    expect(rejected.body).toMatchObject({ status: 'Rejected', reason: 'limit too high', decidedBy: { actor: 'alice' } });
    const audit = await server.as().get(`/api/audit/events?entityType=ApprovalRequest&entityId=${req.id}&action=Rejected`).expect(200);
    expect(audit.body.items[0]).toMatchObject({ actor: 'alice', additional: { authors: [{ actor: 'bob', kind: 'oidc' }], decider: { actor: 'alice' }, reason: 'limit too high' } });
  });

  it('resets the approval on an edit while pending: the revision moves on, the old one is stale, the editor cannot approve', async () => {
    const first = await requestAs(pat('carl'), 'subject-3', { limit: 4 });
    const edited = await requestAs(pat('bob'), 'subject-3', { limit: 5 });
    expect(edited.id).toBe(first.id);
    expect(edited.revision).toBe(2);
    expect((await server.as(alice).post(`/api/approvals/${first.id}/approve`).send({ revision: 1 }).expect(409)).body.code).toBe('APPROVAL_STALE');
    expect((await server.as(bob).post(`/api/approvals/${first.id}/approve`).send({ revision: 2 }).expect(403)).body.code).toBe('SELF_APPROVAL_FORBIDDEN');
    const ok = await server.as(alice).post(`/api/approvals/${first.id}/approve`).send({ revision: 2 }).expect(200);
    expect(ok.body).toMatchObject({ status: 'Approved', revision: 2, diff: { after: { limit: 5 } } });
    const audit = await server.as().get(`/api/audit/events?entityType=ApprovalRequest&entityId=${first.id}`).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['Approved', 'Reset', 'Requested']);
  });

  it('lists pending requests by default and filters by status and author', async () => {
    const pending = await requestAs(pat('dora'), 'subject-4', { limit: 6 });
    const list = await server.as().get('/api/approvals').expect(200);
    expect(list.body.items.map((a: { id: string }) => a.id)).toEqual([pending.id]);
    const approved = await server.as().get('/api/approvals?status=Approved').expect(200);
    expect(approved.body.items).toHaveLength(2);
    const byCarl = await server.as().get('/api/approvals?status=Approved&author=carl').expect(200);
    expect(byCarl.body.items).toHaveLength(1);
    await server.as().get('/api/approvals/00000000-0000-4000-8000-000000000000').expect(404);
  });
});
