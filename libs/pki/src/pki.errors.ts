import { DomainException, ProblemStatus } from '@ampora/platform';

export enum PkiErrorCode {
  SIGNING_KEY_NOT_FOUND = 'SIGNING_KEY_NOT_FOUND',
  SIGNING_KEY_NOT_DRAFT = 'SIGNING_KEY_NOT_DRAFT',
  SIGNING_KEY_ACTIVE = 'SIGNING_KEY_ACTIVE',
  SIGNING_KEY_RETIRED = 'SIGNING_KEY_RETIRED',
  SIGNING_KEYS_FORBIDDEN = 'SIGNING_KEYS_FORBIDDEN',
  NO_ACTIVE_SIGNING_KEY = 'NO_ACTIVE_SIGNING_KEY',
  INVALID_CSR = 'INVALID_CSR',
  AGENT_CERTIFICATE_NOT_FOUND = 'AGENT_CERTIFICATE_NOT_FOUND',
  CERTIFICATE_NOT_FOUND = 'CERTIFICATE_NOT_FOUND',
  CERTIFICATE_ALREADY_REVOKED = 'CERTIFICATE_ALREADY_REVOKED',
  CRL_NOT_PUBLISHED = 'CRL_NOT_PUBLISHED',
  SIGNING_FAILED = 'SIGNING_FAILED',
  SIGNING_KEY_UNAVAILABLE = 'SIGNING_KEY_UNAVAILABLE',
}

const STATUS: Record<PkiErrorCode, ProblemStatus> = {
  [PkiErrorCode.SIGNING_KEY_NOT_FOUND]: 404,
  [PkiErrorCode.SIGNING_KEY_NOT_DRAFT]: 409,
  [PkiErrorCode.SIGNING_KEY_ACTIVE]: 409,
  [PkiErrorCode.SIGNING_KEY_RETIRED]: 409,
  [PkiErrorCode.SIGNING_KEYS_FORBIDDEN]: 403,
  [PkiErrorCode.NO_ACTIVE_SIGNING_KEY]: 503,
  [PkiErrorCode.INVALID_CSR]: 422,
  [PkiErrorCode.AGENT_CERTIFICATE_NOT_FOUND]: 404,
  [PkiErrorCode.CERTIFICATE_NOT_FOUND]: 404,
  [PkiErrorCode.CERTIFICATE_ALREADY_REVOKED]: 409,
  [PkiErrorCode.CRL_NOT_PUBLISHED]: 503,
  [PkiErrorCode.SIGNING_FAILED]: 502,
  [PkiErrorCode.SIGNING_KEY_UNAVAILABLE]: 503,
};

export class PkiException extends DomainException<PkiErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: PkiErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = STATUS[code];
  }
}
