import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Observable, tap } from 'rxjs';
import { MIN_ROLE_KEY } from '../auth/auth.decorators';
import { RequestContext } from '../context/request-context';
import { createLogger } from '../logging/logger';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

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
    return next.handle().pipe(
      tap(() => {
        const writes = RequestContext.current()?.auditWrites ?? 0;
        if (writes !== 1) {
          this.log.error('Mutating route {Method} {Route} wrote {AuditWrites} audit events instead of one', {
            Method: req.method,
            Route: req.route?.path ?? req.path,
            AuditWrites: writes,
          });
        }
      }),
    );
  }
}
