export { AccessPolicy, Authentication, RoleName } from './access-policy';
export { MinRole, Public, CurrentPrincipal, MIN_ROLE_KEY, PUBLIC_KEY } from './auth.decorators';
