import { PolicyStatus, statusAfterEdit, transition } from './policy-lifecycle';

describe('policy lifecycle', () => {
  it.each([
    ['Draft', 'submit', 'PendingApproval'],
    ['Disabled', 'submit', 'PendingApproval'],
    ['Active', 'submit', undefined],
    ['PendingApproval', 'approve', 'Active'],
    ['Draft', 'approve', undefined],
    ['PendingApproval', 'reject', 'Draft'],
    ['Active', 'disable', 'Disabled'],
    ['PendingApproval', 'disable', 'Disabled'],
    ['Disabled', 'disable', undefined],
  ] as const)('%s --%s--> %s', (from, action, to) => {
    expect(transition(from, action)).toBe(to);
  });

  it('returns an Active policy to Draft on an expression edit, not on a metadata edit', () => {
    expect(statusAfterEdit(PolicyStatus.Active, true)).toBe('Draft');
    expect(statusAfterEdit(PolicyStatus.Active, false)).toBe('Active');
    expect(statusAfterEdit(PolicyStatus.PendingApproval, true)).toBe('PendingApproval');
  });
});
