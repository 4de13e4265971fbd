import { DomainException, ProblemStatus } from '@ampora/platform';

export enum FleetErrorCode {
  AGENT_NOT_FOUND = 'AGENT_NOT_FOUND',
  BOOTSTRAP_TOKEN_NOT_FOUND = 'BOOTSTRAP_TOKEN_NOT_FOUND',
  BOOTSTRAP_TOKEN_ALREADY_REVOKED = 'BOOTSTRAP_TOKEN_ALREADY_REVOKED',
  INVALID_CONFIG = 'INVALID_CONFIG',
}

const STATUS: Record<FleetErrorCode, ProblemStatus> = {
  [FleetErrorCode.AGENT_NOT_FOUND]: 404,
  [FleetErrorCode.BOOTSTRAP_TOKEN_NOT_FOUND]: 404,
  [FleetErrorCode.BOOTSTRAP_TOKEN_ALREADY_REVOKED]: 409,
  [FleetErrorCode.INVALID_CONFIG]: 422,
};

export class FleetException extends DomainException<FleetErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: FleetErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
