import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessPolicy } from '@ampora/platform';
import { ApprovalRuleRepository } from './approval-rules/approval-rule.repository';
import { ApprovalRuleService } from './approval-rules/approval-rule.service';
import { ApprovalRulesController } from './approval-rules/approval-rules.controller';
import { ApprovalRuleEntity } from './approval-rules/entities/approval-rule.entity';
import { ApprovalRepository } from './approvals/approval.repository';
import { ApprovalService } from './approvals/approval.service';
import { ApprovalsController } from './approvals/approvals.controller';
import { ApprovalRequestEntity } from './approvals/entities/approval-request.entity';
import { LintRuleEntity } from './lint/entities/lint-rule.entity';
import { LintRuleRepository } from './lint/lint-rule.repository';
import { LintRuleService } from './lint/lint-rule.service';
import { LintRulesController } from './lint/lint-rules.controller';
import { PolicyEntity, TenantPolicySettingsEntity } from './policies/entities/policy.entity';
import { PoliciesController } from './policies/policies.controller';
import { PolicyDryRunService } from './policies/policy-dry-run.service';
import { PolicyPushCheck } from './policies/policy-push-check';
import { PolicyRepository } from './policies/policy.repository';
import { PolicyService } from './policies/policy.service';
import { PushContextBinding, PushTimeChecks } from './policies/push-time-checks';
import { GovernanceAccessPolicy } from './access/governance-access-policy';
import { OidcVerifier } from './access/oidc.verifier';
import { OidcDiscovery } from './access/oidc-discovery';
import { OidcSignInController } from './access/oidc-sign-in.controller';
import { AuditDisciplineInterceptor } from './audit/audit-discipline.interceptor';
import { AuditController } from './audit/audit.controller';
import { AuditRepository } from './audit/audit.repository';
import { AuditService } from './audit/audit.service';
import { AuditEventEntity } from './audit/entities/audit-event.entity';
import { AuditEventWithArchiveView } from './audit/entities/audit-event-with-archive.view';
import { TenantEntity } from './tenants/entities/tenant.entity';
import { TenantRepository } from './tenants/tenant.repository';
import { TenantService } from './tenants/tenant.service';
import { ApiTokenRepository } from './tokens/api-token.repository';
import { ApiTokenEntity } from './tokens/entities/api-token.entity';
import { TokenService } from './tokens/token.service';
import { TokensController } from './tokens/tokens.controller';

/**
 * Tenants, personal access tokens, roles and OIDC, and the audit writer: what every process needs.
 * Binds platform's `AccessPolicy` port, which the global `AuthGuard` asks (decision 0180).
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([TenantEntity, ApiTokenEntity, AuditEventEntity, AuditEventWithArchiveView, ApprovalRequestEntity, PolicyEntity, TenantPolicySettingsEntity, LintRuleEntity, ApprovalRuleEntity])],
  providers: [
    TenantRepository,
    TenantService,
    ApiTokenRepository,
    TokenService,
    OidcVerifier,
    OidcDiscovery,
    AuditRepository,
    AuditService,
    ApprovalRepository,
    ApprovalService,
    PolicyRepository,
    PolicyService,
    PolicyPushCheck,
    LintRuleRepository,
    LintRuleService,
    ApprovalRuleRepository,
    ApprovalRuleService,
    PushTimeChecks,
    PushContextBinding,
    { provide: AccessPolicy, useClass: GovernanceAccessPolicy },
  ],
  exports: [OidcDiscovery, TenantService, TokenService, AuditService, ApprovalService, ApprovalRuleService, PolicyService, LintRuleService, PolicyPushCheck, PushTimeChecks, PushContextBinding, AccessPolicy],
})
export class GovernanceModule {}

/** The HTTP face of governance: the token, audit and approval routes, and the audit discipline on every route. */
@Module({
  controllers: [OidcSignInController, TokensController, AuditController, ApprovalsController, PoliciesController, LintRulesController, ApprovalRulesController],
  providers: [PolicyDryRunService, { provide: APP_INTERCEPTOR, useClass: AuditDisciplineInterceptor }],
})
export class GovernanceApiModule {}
