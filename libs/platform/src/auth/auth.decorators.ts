import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension } from '@nestjs/swagger';
import { Principal, RequestContext } from '../context/request-context';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { ApiProblems } from '../openapi/api-problems.decorator';
import { RoleName } from './access-policy';

export const MIN_ROLE_KEY = 'ampora:min-role';
export const PUBLIC_KEY = 'ampora:public';

/**
 * The least role a caller needs for this route, documented in OpenAPI with 401/403 answers and as
 * `x-ampora-min-role` on the operation (decision 0243), so a client or a test reads it from
 * /openapi.json; a method's declaration wins over its class's, as in the guard. The `AccessPolicy`
 * decides whether a principal meets it.
 */
export function MinRole(role: RoleName): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(MIN_ROLE_KEY, role), ApiBearerAuth('bearer'), ApiProblems(401, 403), ApiExtension('x-ampora-min-role', role));
}

/** An anonymous route (health, metrics, trust bundle, OpAMP which authenticates agents itself); `x-ampora-public` in OpenAPI. */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension('x-ampora-public', true));
}

/** The authenticated caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, _ctx: ExecutionContext): Principal => {
  const principal = RequestContext.principal();
  if (!principal) throw new PlatformException(PlatformErrorCode.UNAUTHENTICATED, 'Authentication required');
  return principal;
});
