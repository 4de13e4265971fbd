import { DomainException, ProblemStatus } from '@ampora/platform';

export enum GovernanceErrorCode {
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  TENANT_EXISTS = 'TENANT_EXISTS',
  TOKEN_NOT_FOUND = 'TOKEN_NOT_FOUND',
  TOKEN_NAME_TAKEN = 'TOKEN_NAME_TAKEN',
}

const STATUS: Record<GovernanceErrorCode, ProblemStatus> = {
  [GovernanceErrorCode.TENANT_NOT_FOUND]: 404,
  [GovernanceErrorCode.TENANT_EXISTS]: 409,
  [GovernanceErrorCode.TOKEN_NOT_FOUND]: 404,
  [GovernanceErrorCode.TOKEN_NAME_TAKEN]: 409,
};

export class GovernanceException extends DomainException<GovernanceErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: GovernanceErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
