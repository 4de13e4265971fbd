import { ApprovalIdentity, ApprovalState, ApprovalStatus, refuseDecision, resetOnEdit, sameIdentity } from './approval';

const alice: ApprovalIdentity = { tenantId: 't1', actor: 'alice', kind: 'pat', role: 'Admin' };
const bob: ApprovalIdentity = { tenantId: 't1', actor: 'bob', kind: 'oidc', role: 'Admin' };
const pending: ApprovalState = { tenantId: 't1', status: ApprovalStatus.Pending, revision: 1, authors: [alice] };

describe('four-eyes rules', () => {
  it('treats the same token name or OIDC subject in the same tenant as one person', () => {
    expect(sameIdentity(alice, { ...alice, kind: 'oidc' })).toBe(true);
    expect(sameIdentity(alice, { ...alice, actor: ' Alice ' })).toBe(true);
    expect(sameIdentity(alice, bob)).toBe(false);
    expect(sameIdentity(alice, { ...alice, tenantId: 't2' })).toBe(false);
  });

  it('refuses the author, for a PAT and for an OIDC identity', () => {
    expect(refuseDecision(pending, alice)?.code).toBe('SELF_APPROVAL_FORBIDDEN');
    const byOidc = { ...pending, authors: [bob] };
    expect(refuseDecision(byOidc, { ...bob, role: 'Admin' })?.code).toBe('SELF_APPROVAL_FORBIDDEN');
  });

  it('lets another person decide a pending request, and nobody decide a closed one', () => {
    expect(refuseDecision(pending, bob)).toBeUndefined();
    expect(refuseDecision({ ...pending, status: ApprovalStatus.Approved }, bob)?.code).toBe('APPROVAL_NOT_PENDING');
    expect(refuseDecision(pending, { ...bob, kind: 'system', actor: 'system' })?.code).toBe('APPROVER_NOT_A_PERSON');
  });

  it('resets on an edit: the revision moves on, a decision on the old one is stale, every editor is an author', () => {
    const carol: ApprovalIdentity = { tenantId: 't1', actor: 'carol', kind: 'pat', role: 'Admin' };
    const edited = resetOnEdit(pending, bob);
    expect(edited).toMatchObject({ revision: 2, authors: [alice, bob] });
    expect(refuseDecision(edited, carol, 1)?.code).toBe('APPROVAL_STALE');
    expect(refuseDecision(edited, carol, 2)).toBeUndefined();
    expect(refuseDecision(edited, bob)?.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect(refuseDecision(edited, alice)?.code).toBe('SELF_APPROVAL_FORBIDDEN');
    expect(resetOnEdit(edited, alice).authors).toHaveLength(2);
    expect(() => resetOnEdit({ ...pending, status: ApprovalStatus.Rejected }, bob)).toThrow();
  });
});
