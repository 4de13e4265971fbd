import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { ZodValidationException } from 'nestjs-zod';
import { ZodError } from 'zod';
import { createLogger } from '../logging/logger';
import { currentTraceId } from '../telemetry/tracing';
import { DomainException, FieldError, PlatformErrorCode, PlatformException } from './domain.exception';
import { Problem, PROBLEM_CONTENT_TYPE, problemType } from './problem';
import { isStoreUnavailable } from './store-unavailable';

const log = createLogger('Ampora.Platform.Errors.ProblemFilter');

/** Turns a zod error into the list of bad fields. */
export function fieldErrorsFromZod(error: ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    message: issue.message,
  }));
}

/** Maps any thrown value to the exception the client sees. Unknown errors become INTERNAL_ERROR. */
export function toDomainException(error: unknown): { exception: DomainException; unexpected: boolean } {
  if (error instanceof DomainException) return { exception: error, unexpected: false };
  if (error instanceof ZodValidationException) {
    const zodError = error.getZodError();
    if (zodError instanceof ZodError) return { exception: PlatformException.validation(fieldErrorsFromZod(zodError)), unexpected: false };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const message = httpMessage(error);
    switch (status) {
      case HttpStatus.NOT_FOUND:
        return { exception: new PlatformException(PlatformErrorCode.ROUTE_NOT_FOUND, message), unexpected: false };
      case HttpStatus.PAYLOAD_TOO_LARGE:
        return { exception: new PlatformException(PlatformErrorCode.PAYLOAD_TOO_LARGE, message), unexpected: false };
      case HttpStatus.BAD_REQUEST:
        return { exception: PlatformException.validation([{ field: '(body)', message }]), unexpected: false };
      case HttpStatus.UNAUTHORIZED:
        return { exception: new PlatformException(PlatformErrorCode.UNAUTHENTICATED, message), unexpected: false };
      case HttpStatus.FORBIDDEN:
        return { exception: new PlatformException(PlatformErrorCode.FORBIDDEN, message), unexpected: false };
      default:
        if (status < 500) return { exception: new PlatformException(PlatformErrorCode.VALIDATION_FAILED, message), unexpected: false };
    }
  }
  // body-parser errors (malformed JSON, too large) carry `type` and `status`
  const bodyError = error as { type?: string; status?: number; message?: string };
  if (bodyError && typeof bodyError.type === 'string' && typeof bodyError.status === 'number') {
    if (bodyError.status === 413) return { exception: new PlatformException(PlatformErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large'), unexpected: false };
    if (bodyError.status === 415) return { exception: new PlatformException(PlatformErrorCode.UNSUPPORTED_MEDIA_TYPE, bodyError.message ?? 'Unsupported request body encoding'), unexpected: false };
    if (bodyError.status === 400) {
      return { exception: PlatformException.validation([{ field: '(body)', message: bodyError.message ?? 'Unreadable request body' }]), unexpected: false };
    }
  }
  // express could not decode a path parameter (a malformed %-escape, or one that is not UTF-8)
  if (error instanceof URIError && (error as { status?: number }).status === 400) {
    return { exception: PlatformException.validation([{ field: '(path)', message: 'A path segment is not valid percent-encoded UTF-8' }]), unexpected: false };
  }
  // the database or Redis is away: the client should retry, nothing about its request is wrong
  if (isStoreUnavailable(error)) {
    return { exception: new PlatformException(PlatformErrorCode.SERVICE_UNAVAILABLE, 'The database or queue cannot be reached right now; retry shortly'), unexpected: false };
  }
  return { exception: new PlatformException(PlatformErrorCode.INTERNAL_ERROR, 'An unexpected error occurred'), unexpected: true };
}

/** The realm of Ampora's bearer challenges (RFC 6750). */
export const BEARER_REALM = 'ampora';

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750 section 3): only the realm when the request
 * carried no bearer credentials, `error="invalid_token"` with a description when it carried one that
 * was refused.
 */
export function bearerChallenge(authorization: string | undefined, detail: string): string {
  const hasBearer = typeof authorization === 'string' && /^Bearer\s+\S/i.test(authorization);
  if (!hasBearer) return `Bearer realm="${BEARER_REALM}"`;
  const description = detail.replace(/[^\x20-\x7e]|["\\]/g, '');
  return `Bearer realm="${BEARER_REALM}", error="invalid_token", error_description="${description}"`;
}

function httpMessage(error: HttpException): string {
  const response = error.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : error.message;
}

/** Builds the problem document for a domain exception. */
export function toProblem(exception: DomainException, extra: Partial<Problem> = {}): Problem {
  return {
    type: problemType(exception.code),
    title: exception.title,
    status: exception.status,
    detail: exception.message,
    code: exception.code,
    traceId: currentTraceId(),
    ...exception.extensions,
    ...extra,
  };
}

/** The one global filter: every error leaves as application/problem+json with a stable code. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw error;
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    const { exception, unexpected } = toDomainException(error);
    const extra: Partial<Problem> = {};
    if (unexpected) {
      extra.errorId = randomUUID();
      log.error('Unhandled error {ErrorId} on {Method} {Path}', { ErrorId: extra.errorId, Method: req.method, Path: req.path }, error);
    }
    if (res.headersSent) {
      res.end();
      return;
    }
    if (exception.status === 401) res.setHeader('WWW-Authenticate', bearerChallenge(req.headers.authorization, exception.message));
    if (exception.status === 503 && !res.getHeader('Retry-After')) res.setHeader('Retry-After', '5');
    res.status(exception.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(toProblem(exception, extra)));
  }
}
