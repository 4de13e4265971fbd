/** HTTP statuses a domain error code may map to. */
export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 410 | 412 | 413 | 415 | 422 | 423 | 429 | 500 | 502 | 503;

/**
 * Base of every domain error. Each domain declares its own code enum and a `Record<Code, status>`
 * map (the compiler makes that map exhaustive); the global filter reads the status from here.
 */
export abstract class DomainException<C extends string = string> extends Error {
  abstract readonly status: ProblemStatus;

  protected constructor(
    readonly code: C,
    message: string,
    /** Extra members for the problem document (for example the list of invalid fields). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /** A short, human title for the code (`ROLLOUT_NOT_FOUND` → `Rollout not found`). */
  get title(): string {
    const words = this.code.toLowerCase().split('_');
    return words.map((w, i) => (i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w)).join(' ');
  }
}

export enum PlatformErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  CONFLICT = 'CONFLICT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  INVALID_ENCODING = 'INVALID_ENCODING',
  JSON_TOO_DEEP = 'JSON_TOO_DEEP',
  JSON_TOO_MANY_KEYS = 'JSON_TOO_MANY_KEYS',
  INVALID_CURSOR = 'INVALID_CURSOR',
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR = 'INTERNAL_ERROR',
}

const PLATFORM_STATUS: Record<PlatformErrorCode, ProblemStatus> = {
  [PlatformErrorCode.VALIDATION_FAILED]: 400,
  [PlatformErrorCode.UNAUTHENTICATED]: 401,
  [PlatformErrorCode.FORBIDDEN]: 403,
  [PlatformErrorCode.NOT_FOUND]: 404,
  [PlatformErrorCode.ROUTE_NOT_FOUND]: 404,
  [PlatformErrorCode.METHOD_NOT_ALLOWED]: 404,
  [PlatformErrorCode.CONFLICT]: 409,
  [PlatformErrorCode.PAYLOAD_TOO_LARGE]: 413,
  [PlatformErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [PlatformErrorCode.INVALID_ENCODING]: 400,
  [PlatformErrorCode.JSON_TOO_DEEP]: 400,
  [PlatformErrorCode.JSON_TOO_MANY_KEYS]: 400,
  [PlatformErrorCode.INVALID_CURSOR]: 400,
  [PlatformErrorCode.TOO_MANY_REQUESTS]: 429,
  [PlatformErrorCode.SERVICE_UNAVAILABLE]: 503,
  [PlatformErrorCode.INTERNAL_ERROR]: 500,
};

export interface FieldError {
  /** Dotted path of the bad field (`strategy.steps.2`), or `(body)` for the whole body. */
  field: string;
  message: string;
}

export class PlatformException extends DomainException<PlatformErrorCode> {
  readonly status: ProblemStatus;

  constructor(code: PlatformErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(code, message, extensions);
    this.status = PLATFORM_STATUS[code];
  }

  static validation(errors: FieldError[]): PlatformException {
    const names = [...new Set(errors.map((e) => e.field))].join(', ');
    return new PlatformException(PlatformErrorCode.VALIDATION_FAILED, `Invalid request: ${names}`, { errors });
  }

  static notFound(what: string, id: string): PlatformException {
    return new PlatformException(PlatformErrorCode.NOT_FOUND, `${what} ${id} was not found`);
  }
}
