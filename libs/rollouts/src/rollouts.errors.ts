import { DomainException, ProblemStatus } from '@ampora/platform';

export enum RolloutErrorCode {
  ROLLOUT_NOT_FOUND = 'ROLLOUT_NOT_FOUND',
  ROLLOUT_ILLEGAL_TRANSITION = 'ROLLOUT_ILLEGAL_TRANSITION',
  ROLLOUT_STEP_NOT_SETTLED = 'ROLLOUT_STEP_NOT_SETTLED',
  ROLLOUT_NO_PREVIOUS_VERSION = 'ROLLOUT_NO_PREVIOUS_VERSION',
  ROLLOUT_NEVER_STARTED = 'ROLLOUT_NEVER_STARTED',
  ROLLOUT_GROUP_BUSY = 'ROLLOUT_GROUP_BUSY',
  ROLLOUT_INVALID_STRATEGY = 'ROLLOUT_INVALID_STRATEGY',
}

const STATUS: Record<RolloutErrorCode, ProblemStatus> = {
  [RolloutErrorCode.ROLLOUT_NOT_FOUND]: 404,
  [RolloutErrorCode.ROLLOUT_ILLEGAL_TRANSITION]: 409,
  [RolloutErrorCode.ROLLOUT_STEP_NOT_SETTLED]: 409,
  [RolloutErrorCode.ROLLOUT_NO_PREVIOUS_VERSION]: 409,
  [RolloutErrorCode.ROLLOUT_NEVER_STARTED]: 409,
  [RolloutErrorCode.ROLLOUT_GROUP_BUSY]: 409,
  [RolloutErrorCode.ROLLOUT_INVALID_STRATEGY]: 422,
};

export class RolloutException extends DomainException<RolloutErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: RolloutErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
