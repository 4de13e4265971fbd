import type { DomainEvent } from '@ampora/platform';
import type { ApprovalSubjectKind } from './domain/approval';

/** Every event governance publishes (on the live bus, after the commit of its change). */
export const GovernanceEvents = {
  ApprovalRequested: 'governance.approval.requested',
  ApprovalReset: 'governance.approval.reset',
  ApprovalApproved: 'governance.approval.approved',
  ApprovalRejected: 'governance.approval.rejected',
  ApprovalWithdrawn: 'governance.approval.withdrawn',
} as const;

/** What every approval event carries: the request and its subject. */
export interface ApprovalEventPayload {
  approvalId: string;
  subjectKind: ApprovalSubjectKind;
  subjectId: string;
  revision: number;
  /** The author(s) on requested/reset, the decider on approved/rejected. */
  actor: string;
  reason?: string;
}

export type GovernanceEvent =
  | DomainEvent<typeof GovernanceEvents.ApprovalRequested, ApprovalEventPayload>
  | DomainEvent<typeof GovernanceEvents.ApprovalReset, ApprovalEventPayload>
  | DomainEvent<typeof GovernanceEvents.ApprovalApproved, ApprovalEventPayload>
  | DomainEvent<typeof GovernanceEvents.ApprovalRejected, ApprovalEventPayload>
  | DomainEvent<typeof GovernanceEvents.ApprovalWithdrawn, ApprovalEventPayload>;
