import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiExtension } from '@nestjs/swagger';
import { Observable, tap } from 'rxjs';
import { createLogger, MIN_ROLE_KEY, RequestContext } from '@ampora/platform';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const READ_ONLY_ROUTE_KEY = 'ampora:read-only-route';

/**
 * Marks a POST that changes nothing (a query whose input is a body, like a selector preview): the
 * audit discipline expects no event from it. OpenAPI says so as `x-ampora-audit: none` (decision
 * 0360), so a client or the reliability suite knows what a call must write.
 */
export function ReadOnlyRoute(): MethodDecorator {
  return applyDecorators(SetMetadata(READ_ONLY_ROUTE_KEY, true), ApiExtension('x-ampora-audit', 'none'));
}

export const COMPOUND_AUDIT_KEY = 'ampora:compound-audit-route';

/**
 * Marks a route that performs several audited changes at once (a rollback: the rollout's
 * transitions and the rollback it creates): it must write at least one audit event, one per change.
 * OpenAPI says so as `x-ampora-audit: compound`; a mutating route without the extension writes one.
 */
export function CompoundAuditRoute(): MethodDecorator {
  return applyDecorators(SetMetadata(COMPOUND_AUDIT_KEY, true), ApiExtension('x-ampora-audit', 'compound'));
}

/**
 * Every successful mutating operator route writes exactly one audit event. This interceptor checks
 * the rule on every such request and reports a breach as an Error log line (tests watch for it).
 */
@Injectable()
export class AuditDisciplineInterceptor implements NestInterceptor {
  private readonly log = createLogger('Ampora.Platform.Audit.Discipline');

  constructor(private readonly reflector: Reflector) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (ctx.getType() !== 'http') return next.handle();
    const req = ctx.switchToHttp().getRequest<Request>();
    const guarded = this.reflector.getAllAndOverride(MIN_ROLE_KEY, [ctx.getHandler(), ctx.getClass()]);
    if (!MUTATING.has(req.method) || !guarded) return next.handle();
    if (this.reflector.getAllAndOverride<boolean>(READ_ONLY_ROUTE_KEY, [ctx.getHandler(), ctx.getClass()])) return next.handle();
    const compound = this.reflector.getAllAndOverride<boolean>(COMPOUND_AUDIT_KEY, [ctx.getHandler(), ctx.getClass()]);
    return next.handle().pipe(
      tap(() => {
        const writes = RequestContext.current()?.auditWrites ?? 0;
        if (compound ? writes < 1 : writes !== 1) {
          this.log.error('Mutating route {Method} {Route} wrote {AuditWrites} audit events instead of {Expected}', {
            Method: req.method,
            Route: req.route?.path ?? req.path,
            AuditWrites: writes,
            Expected: compound ? 'at least one' : 'one',
          });
        }
      }),
    );
  }
}
