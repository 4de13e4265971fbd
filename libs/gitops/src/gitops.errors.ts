import { DomainException, ProblemStatus } from '@ampora/platform';

export enum GitopsErrorCode {
  GIT_SOURCE_NOT_FOUND = 'GIT_SOURCE_NOT_FOUND',
  GIT_SOURCE_NAME_TAKEN = 'GIT_SOURCE_NAME_TAKEN',
  GIT_SOURCE_INVALID = 'GIT_SOURCE_INVALID',
  GIT_SOURCE_PAUSED = 'GIT_SOURCE_PAUSED',
  GIT_SOURCE_ALREADY_ACTIVE = 'GIT_SOURCE_ALREADY_ACTIVE',
  GIT_SOURCE_ALREADY_PAUSED = 'GIT_SOURCE_ALREADY_PAUSED',
  GIT_WEBHOOK_UNAUTHORIZED = 'GIT_WEBHOOK_UNAUTHORIZED',
}

const STATUS: Record<GitopsErrorCode, ProblemStatus> = {
  [GitopsErrorCode.GIT_SOURCE_NOT_FOUND]: 404,
  [GitopsErrorCode.GIT_SOURCE_NAME_TAKEN]: 409,
  [GitopsErrorCode.GIT_SOURCE_INVALID]: 422,
  [GitopsErrorCode.GIT_SOURCE_PAUSED]: 409,
  [GitopsErrorCode.GIT_SOURCE_ALREADY_ACTIVE]: 409,
  [GitopsErrorCode.GIT_SOURCE_ALREADY_PAUSED]: 409,
  [GitopsErrorCode.GIT_WEBHOOK_UNAUTHORIZED]: 401,
};

export class GitopsException extends DomainException<GitopsErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: GitopsErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
