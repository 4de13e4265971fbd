import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { Principal, RequestContext } from '../context/request-context';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { createLogger } from '../logging/logger';
import { MIN_ROLE_KEY, PUBLIC_KEY } from './auth.decorators';
import { OidcVerifier } from './oidc.verifier';
import { Role, roleAtLeast } from './role';
import { TokenService } from './token.service';

/**
 * The global guard. Every route declares either @Public() or @MinRole(...); a route with neither is
 * refused (fail closed). PATs (`amp-pat.`) and OIDC JWTs are both accepted as bearer tokens.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly log = createLogger('Ampora.Platform.Auth.AuthGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenService,
    private readonly oidc: OidcVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const minRole = this.reflector.getAllAndOverride<Role | undefined>(MIN_ROLE_KEY, targets);
    if (!minRole) {
      this.log.error('Route {Handler} declares no role; refusing', { Handler: `${context.getClass().name}.${context.getHandler().name}` });
      throw new PlatformException(PlatformErrorCode.FORBIDDEN, 'This route is not open to any role');
    }
    const principal = await this.authenticate(context.switchToHttp().getRequest<Request>());
    RequestContext.setPrincipal(principal);
    if (!roleAtLeast(principal.role, minRole)) {
      throw new PlatformException(PlatformErrorCode.FORBIDDEN, `This action needs the ${minRole} role; you have ${principal.role}`);
    }
    return true;
  }

  private async authenticate(req: Request): Promise<Principal> {
    const header = req.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new PlatformException(PlatformErrorCode.UNAUTHENTICATED, 'Send Authorization: Bearer <token>');
    const token = match[1]!;
    if (token.startsWith('amp-pat.')) {
      const principal = await this.tokens.authenticate(token);
      if (!principal) throw new PlatformException(PlatformErrorCode.UNAUTHENTICATED, 'The access token is unknown, revoked, expired or malformed');
      return principal;
    }
    if (!this.oidc.enabled) throw new PlatformException(PlatformErrorCode.UNAUTHENTICATED, 'The bearer token is not a personal access token');
    const outcome = await this.oidc.verify(token);
    if (outcome.ok) return outcome.principal;
    throw new PlatformException(outcome.status === 401 ? PlatformErrorCode.UNAUTHENTICATED : PlatformErrorCode.FORBIDDEN, outcome.reason);
  }
}
