import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { RequestContext } from '../context/request-context';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
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
    const outcome = await this.policy.authenticate(context.switchToHttp().getRequest<Request>().headers.authorization);
    if (!outcome.ok) throw new PlatformException(outcome.status === 401 ? PlatformErrorCode.UNAUTHENTICATED : PlatformErrorCode.FORBIDDEN, outcome.reason);
    const principal = outcome.principal;
    RequestContext.setPrincipal(principal);
    if (!this.policy.permits(principal, minRole)) {
      throw new PlatformException(PlatformErrorCode.FORBIDDEN, `This action needs the ${minRole} role; you have ${principal.role}`);
    }
    return true;
  }
}
