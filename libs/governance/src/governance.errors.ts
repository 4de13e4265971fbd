import { DomainException, ProblemStatus } from '@ampora/platform';

export enum GovernanceErrorCode {
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  TENANT_EXISTS = 'TENANT_EXISTS',
  TOKEN_NOT_FOUND = 'TOKEN_NOT_FOUND',
  TOKEN_NAME_TAKEN = 'TOKEN_NAME_TAKEN',
  APPROVAL_NOT_FOUND = 'APPROVAL_NOT_FOUND',
  SELF_APPROVAL_FORBIDDEN = 'SELF_APPROVAL_FORBIDDEN',
  APPROVER_NOT_A_PERSON = 'APPROVER_NOT_A_PERSON',
  APPROVAL_ROLE_REQUIRED = 'APPROVAL_ROLE_REQUIRED',
  APPROVAL_NOT_PENDING = 'APPROVAL_NOT_PENDING',
  APPROVAL_STALE = 'APPROVAL_STALE',
  POLICY_NOT_FOUND = 'POLICY_NOT_FOUND',
  POLICY_NAME_TAKEN = 'POLICY_NAME_TAKEN',
  POLICY_EXPRESSION_INVALID = 'POLICY_EXPRESSION_INVALID',
  POLICY_TRANSITION_INVALID = 'POLICY_TRANSITION_INVALID',
  PUSH_CONTEXT_UNAVAILABLE = 'PUSH_CONTEXT_UNAVAILABLE',
}

const STATUS: Record<GovernanceErrorCode, ProblemStatus> = {
  [GovernanceErrorCode.TENANT_NOT_FOUND]: 404,
  [GovernanceErrorCode.TENANT_EXISTS]: 409,
  [GovernanceErrorCode.TOKEN_NOT_FOUND]: 404,
  [GovernanceErrorCode.TOKEN_NAME_TAKEN]: 409,
  [GovernanceErrorCode.APPROVAL_NOT_FOUND]: 404,
  [GovernanceErrorCode.SELF_APPROVAL_FORBIDDEN]: 403,
  [GovernanceErrorCode.APPROVER_NOT_A_PERSON]: 403,
  [GovernanceErrorCode.APPROVAL_ROLE_REQUIRED]: 403,
  [GovernanceErrorCode.APPROVAL_NOT_PENDING]: 409,
  [GovernanceErrorCode.APPROVAL_STALE]: 409,
  [GovernanceErrorCode.POLICY_NOT_FOUND]: 404,
  [GovernanceErrorCode.POLICY_NAME_TAKEN]: 409,
  [GovernanceErrorCode.POLICY_EXPRESSION_INVALID]: 400,
  [GovernanceErrorCode.POLICY_TRANSITION_INVALID]: 409,
  [GovernanceErrorCode.PUSH_CONTEXT_UNAVAILABLE]: 503,
};

export class GovernanceException extends DomainException<GovernanceErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: GovernanceErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
