/** The lifecycle of a custom policy (issue 17 item 1): Draft → PendingApproval → Active → Disabled. */
export const PolicyStatus = { Draft: 'Draft', PendingApproval: 'PendingApproval', Active: 'Active', Disabled: 'Disabled' } as const;
export type PolicyStatus = (typeof PolicyStatus)[keyof typeof PolicyStatus];
export const POLICY_STATUSES = Object.values(PolicyStatus) as [PolicyStatus, ...PolicyStatus[]];

export type PolicyAction = 'submit' | 'approve' | 'reject' | 'disable';

/** The status after `action`, or undefined when the action is not allowed from `from`. */
export function transition(from: PolicyStatus, action: PolicyAction): PolicyStatus | undefined {
  switch (action) {
    case 'submit':
      return from === PolicyStatus.Draft || from === PolicyStatus.Disabled ? PolicyStatus.PendingApproval : undefined;
    case 'approve':
      return from === PolicyStatus.PendingApproval ? PolicyStatus.Active : undefined;
    case 'reject':
      return from === PolicyStatus.PendingApproval ? PolicyStatus.Draft : undefined;
    case 'disable':
      return from === PolicyStatus.Disabled ? undefined : PolicyStatus.Disabled;
  }
}

/**
 * The status after an edit. Name and description are metadata; a change of the expression of an
 * Active policy returns it to Draft (it must be approved again). A pending policy stays pending (its
 * approval request is reset); Draft and Disabled stay as they are.
 */
export function statusAfterEdit(from: PolicyStatus, expressionChanged: boolean): PolicyStatus {
  return from === PolicyStatus.Active && expressionChanged ? PolicyStatus.Draft : from;
}
