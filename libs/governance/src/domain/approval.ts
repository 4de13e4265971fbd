/** Pure rules of four-eyes approvals (issue 17 item 2, decision 0261). No Nest, no database. */

/** What an approval request is about: a typed subject kind plus the subject's id. */
export const ApprovalSubjectKind = {
  Policy: 'Policy',
  SigningKey: 'SigningKey',
  FederationPeer: 'FederationPeer',
  LintRule: 'LintRule',
  Custom: 'Custom',
} as const;
export type ApprovalSubjectKind = (typeof ApprovalSubjectKind)[keyof typeof ApprovalSubjectKind];
export const APPROVAL_SUBJECT_KINDS = Object.values(ApprovalSubjectKind) as [ApprovalSubjectKind, ...ApprovalSubjectKind[]];

export const ApprovalStatus = {
  Pending: 'Pending',
  Approved: 'Approved',
  Rejected: 'Rejected',
  Withdrawn: 'Withdrawn',
} as const;
export type ApprovalStatus = (typeof ApprovalStatus)[keyof typeof ApprovalStatus];
export const APPROVAL_STATUSES = Object.values(ApprovalStatus) as [ApprovalStatus, ...ApprovalStatus[]];

/** Who acted: the token name (PAT) or OIDC `sub`, in a tenant. */
export interface ApprovalIdentity {
  tenantId: string;
  actor: string;
  kind: 'pat' | 'oidc' | 'system';
  role: string;
}

/** Before and after of the change waiting for approval (JSON snapshots). */
export interface ApprovalDiff {
  before: unknown;
  after: unknown;
}

export interface ApprovalState {
  tenantId: string;
  status: ApprovalStatus;
  revision: number;
  /** Everyone who authored a revision of the change (the requester first): none of them may decide. */
  authors: ApprovalIdentity[];
}

export type ApprovalRefusal =
  | { code: 'SELF_APPROVAL_FORBIDDEN'; message: string }
  | { code: 'APPROVAL_NOT_PENDING'; message: string }
  | { code: 'APPROVAL_STALE'; message: string }
  | { code: 'APPROVER_NOT_A_PERSON'; message: string };

/**
 * Two identities are the same person when they are in the same tenant and carry the same actor
 * (token name or OIDC subject). The kind does not separate them: a token named like an OIDC subject
 * is treated as that person, so the rule errs on the side of a second pair of eyes.
 */
export function sameIdentity(a: ApprovalIdentity, b: ApprovalIdentity): boolean {
  return a.tenantId === b.tenantId && a.actor.trim().toLowerCase() === b.actor.trim().toLowerCase();
}

/**
 * Whether `decider` may approve or reject the request now. `seenRevision`, when given, is the
 * revision the decider reviewed: an edit since then (which resets the approval) makes it stale.
 */
export function refuseDecision(request: ApprovalState, decider: ApprovalIdentity, seenRevision?: number): ApprovalRefusal | undefined {
  if (request.status !== ApprovalStatus.Pending) return { code: 'APPROVAL_NOT_PENDING', message: `The approval request is ${request.status}, not Pending` };
  if (decider.kind === 'system') return { code: 'APPROVER_NOT_A_PERSON', message: 'Only a person (a token or an OIDC identity) can decide an approval request' };
  if (request.authors.some((a) => sameIdentity(a, decider))) return { code: 'SELF_APPROVAL_FORBIDDEN', message: 'The author of a change cannot approve or reject it: it must be a different operator' };
  if (seenRevision !== undefined && seenRevision !== request.revision) {
    return { code: 'APPROVAL_STALE', message: `The change was edited since revision ${seenRevision}; review revision ${request.revision}` };
  }
  return undefined;
}

/**
 * An edit of a subject while its request is pending: the diff is replaced, the revision moves on
 * (what a reviewer saw no longer counts) and the editor joins the authors.
 */
export function resetOnEdit<S extends ApprovalState>(request: S, editor: ApprovalIdentity): S {
  if (request.status !== ApprovalStatus.Pending) throw new Error('only a pending approval request is reset by an edit');
  const authors = request.authors.some((a) => sameIdentity(a, editor)) ? request.authors : [...request.authors, editor];
  return { ...request, revision: request.revision + 1, authors };
}
