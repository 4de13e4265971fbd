import { ArgumentMetadata, CallHandler, ExecutionContext, Injectable, NestInterceptor, PipeTransform } from '@nestjs/common';
import type { Request } from 'express';
import { createZodValidationPipe } from 'nestjs-zod';
import { Observable } from 'rxjs';
import { ZodError } from 'zod';
import { FieldError, PlatformException } from '../errors/domain.exception';
import { fieldErrorsFromZod } from '../errors/problem.filter';
import { assertIssuedCursor } from '../pagination/cursor-keys';

/**
 * Validation at the edge (decision 0140): the rules that hold for every REST route, whatever its DTO
 * says, so a new route cannot forget them.
 *
 * - `EdgeInputInterceptor` (global, before any pipe) walks the raw `params`, `query` and `body` of
 *   every request, including bodies that no DTO describes and text bodies, and refuses a string (or
 *   an object key) holding U+0000 or a lone UTF-16 surrogate: PostgreSQL cannot store the first and
 *   the second is not Unicode.
 * - `EdgeValidationPipe` (the global pipe) runs the route's zod DTO and then checks what it produced:
 *   every integer fits PostgreSQL's `integer` (int4), every date lies in the supported range, and a
 *   `cursor` in a query was issued by this deployment (INVALID_CURSOR otherwise).
 */

export const INT4_MAX = 2_147_483_647;
export const INT4_MIN = -2_147_483_648;
/** Dates a request may carry: years 1 to 9999 (PostgreSQL and ISO-8601 both hold them exactly). */
export const MIN_DATE = new Date('0001-01-01T00:00:00.000Z');
export const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

/** Field errors reported at most, so a hostile body does not make a huge answer. */
const MAX_ERRORS = 20;

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
const SURROGATE_MESSAGE = 'must be valid Unicode: it contains a lone UTF-16 surrogate';

function stringProblem(s: string): string | null {
  if (s.includes('\u0000')) return NUL_MESSAGE;
  return (s as string & { isWellFormed(): boolean }).isWellFormed() ? null : SURROGATE_MESSAGE;
}

/** Field paths are cut at this length (deeply nested input would otherwise make a huge answer). */
const MAX_PATH = 200;

function join(path: string, key: string | number): string {
  if (path.length >= MAX_PATH) return path.endsWith('…') ? path : `${path}…`;
  return path ? `${path}.${key}` : String(key);
}

/** A key as it may be shown in a field name (the bad characters themselves are not echoed). */
function printableKey(key: string): string {
  return key.replace(/\u0000/g, '\\u0000').replace(/[\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/**
 * Every string and object key under `value` holding NUL or a lone surrogate, by dotted path (`(body)`
 * for a top-level string). Iterative, so the depth of the input cannot exhaust the stack.
 */
export function findUnsafeStrings(value: unknown, root = ''): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length && errors.length < MAX_ERRORS) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = stringProblem(v);
      if (problem) errors.push({ field: path || '(body)', message: problem });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, i)]);
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v).reverse()) {
        const problem = stringProblem(k);
        if (problem) errors.push({ field: join(path, printableKey(k)), message: `a key ${problem}` });
        else stack.push([child, join(path, k)]);
      }
    }
  }
  return errors;
}

/** Every integer outside int4 and every date outside the supported range under a validated value. */
export function findOutOfRange(value: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<[unknown, string]> = [[value, '']];
  while (stack.length && errors.length < MAX_ERRORS) {
    const [v, path] = stack.pop()!;
    const field = path || '(value)';
    if (typeof v === 'number') {
      if (Number.isInteger(v) && (v > INT4_MAX || v < INT4_MIN)) {
        errors.push({ field, message: `must be between ${INT4_MIN} and ${INT4_MAX}` });
      }
    } else if (typeof v === 'bigint') {
      if (v > BigInt(INT4_MAX) || v < BigInt(INT4_MIN)) errors.push({ field, message: `must be between ${INT4_MIN} and ${INT4_MAX}` });
    } else if (v instanceof Date) {
      const t = v.getTime();
      if (Number.isNaN(t) || t < MIN_DATE.getTime() || t > MAX_DATE.getTime()) {
        errors.push({ field, message: `must be a date between ${MIN_DATE.toISOString()} and ${MAX_DATE.toISOString()}` });
      }
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], join(path, i)]);
    } else if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
      for (const [k, child] of Object.entries(v).reverse()) stack.push([child, join(path, k)]);
    }
  }
  return errors;
}

/** Refuses NUL and lone surrogates anywhere in a request's path parameters, query and body. */
@Injectable()
export class EdgeInputInterceptor implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const errors = [...findUnsafeStrings(req.params ?? {}), ...findUnsafeStrings(req.query ?? {}), ...findUnsafeStrings(req.body ?? {})];
    if (errors.length) throw PlatformException.validation(errors.slice(0, MAX_ERRORS));
    return next.handle();
  }
}

const ZodPipe = createZodValidationPipe({
  createValidationException: (error: unknown) =>
    error instanceof ZodError ? PlatformException.validation(fieldErrorsFromZod(error)) : PlatformException.validation([{ field: '(body)', message: String(error) }]),
});

/** The global pipe: the route's zod DTO, then the ranges every stored value must respect. */
@Injectable()
export class EdgeValidationPipe implements PipeTransform {
  private readonly zod = new ZodPipe();

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const out = this.zod.transform(value, metadata) as unknown;
    if (metadata.type === 'custom') return out;
    const errors = findOutOfRange(out);
    if (errors.length) throw PlatformException.validation(errors);
    if (metadata.type === 'query' && out !== null && typeof out === 'object') {
      const cursor = (out as { cursor?: unknown }).cursor;
      if (typeof cursor === 'string' && cursor !== '') assertIssuedCursor(cursor);
    }
    return out;
  }
}
