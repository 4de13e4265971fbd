export { GovernanceModule, GovernanceApiModule } from './governance.module';
export { GovernanceErrorCode, GovernanceException } from './governance.errors';
export { Role, ROLE_RANK, ALL_ROLES, roleAtLeast, parseRole, highestRole } from './domain/role';
export { TenantService, TenantInfo, DEFAULT_TENANT } from './tenants/tenant.service';
export { TokenService, CreatedToken } from './tokens/token.service';
export { CreateTokenDto, CreatedTokenDto, TokenPageDto, TokenListQueryDto } from './tokens/dto/token.dto';
export { AuditService, AuditInput } from './audit/audit.service';
export { AuditQueryDto, AuditEventPageDto } from './audit/dto/audit.dto';
export { ReadOnlyRoute, CompoundAuditRoute, READ_ONLY_ROUTE_KEY, COMPOUND_AUDIT_KEY } from './audit/audit-discipline.interceptor';
