import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { RequestContext } from '../context/request-context';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { AbuseLimiter, AbuseSubject, Throttle } from '../limits/abuse-limiter';
import { createLogger } from '../logging/logger';
import { AccessPolicy, RoleName } from './access-policy';
import { MIN_ROLE_KEY, PUBLIC_KEY } from './auth.decorators';

/**
 * The global guard. Every route declares either @Public() or @MinRole(...); a route with neither is
 * refused (fail closed). Who the caller is and whether their role suffices is the `AccessPolicy`'s
 * call (governance binds it: PATs and OIDC JWTs, decision 0180).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly log = createLogger('Ampora.Platform.Auth.AuthGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly policy: AccessPolicy,
    private readonly limiter: AbuseLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const minRole = this.reflector.getAllAndOverride<RoleName | undefined>(MIN_ROLE_KEY, targets);
    if (!minRole) {
      this.log.error('Route {Handler} declares no role; refusing', { Handler: `${context.getClass().name}.${context.getHandler().name}` });
      throw new PlatformException(PlatformErrorCode.FORBIDDEN, 'This route is not open to any role');
    }
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const authorization = req.headers.authorization;
    // a source that sent too many refused tokens is answered 429 before its token is looked at (decision 0290)
    const subject: AbuseSubject = { ip: req.socket.remoteAddress, credential: credentialDigest(authorization, req.socket.remoteAddress) };
    const blocked = this.limiter.throttled('auth_failure', subject);
    if (blocked) throw tooManyRequests(http.getResponse<Response>(), blocked);
    const outcome = await this.policy.authenticate(authorization);
    if (!outcome.ok) {
      if (outcome.status === 401) {
        const over = await this.limiter.count('auth_failure', subject);
        if (over) throw tooManyRequests(http.getResponse<Response>(), over);
      }
      throw new PlatformException(outcome.status === 401 ? PlatformErrorCode.UNAUTHENTICATED : PlatformErrorCode.FORBIDDEN, outcome.reason);
    }
    this.limiter.vouch(subject.credential!);
    const principal = outcome.principal;
    RequestContext.setPrincipal(principal);
    // from here on the request's statements see its tenant's rows only (decision 0395)
    RequestContext.limitDataTo(principal.tenantId);
    if (!this.policy.permits(principal, minRole)) {
      throw new PlatformException(PlatformErrorCode.FORBIDDEN, `This action needs the ${minRole} role; you have ${principal.role}`);
    }
    return true;
  }
}

/** What a credential and its source are known by in the abuse limiter: a digest, never the token. */
function credentialDigest(authorization: string | undefined, source: string | undefined): string {
  return createHash('sha256').update(`${authorization ?? ''}|${source ?? ''}`).digest('base64url').slice(0, 32);
}

function tooManyRequests(res: Response, throttle: Throttle): PlatformException {
  res.setHeader('Retry-After', String(throttle.retryAfter));
  const who = throttle.scope === 'ip' ? 'this address' : 'this tenant';
  return new PlatformException(PlatformErrorCode.TOO_MANY_REQUESTS, `Too many refused credentials from ${who}; retry after ${throttle.retryAfter} s`);
}
