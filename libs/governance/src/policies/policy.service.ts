import { Injectable, OnModuleInit } from '@nestjs/common';
import { Expression } from '@ampora/dsl';
import { Clock, Page, PageQuery, Principal, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalService, ApprovalSubjectHandler } from '../approvals/approval.service';
import { ApprovalRequestEntity } from '../approvals/entities/approval-request.entity';
import { AuditService } from '../audit/audit.service';
import { ApprovalSubjectKind } from '../domain/approval';
import { TenantPolicySettings } from '../domain/policy/policy-evaluation';
import { PolicyAction, PolicyStatus, statusAfterEdit, transition } from '../domain/policy/policy-lifecycle';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { PolicyEntity } from './entities/policy.entity';
import { PolicyRepository } from './policy.repository';

export interface PolicyInput {
  name: string;
  description?: string;
  expression: string;
}

const snapshot = (p: PolicyEntity) => ({ name: p.name, description: p.description, expression: p.expression, status: p.status });

/**
 * Custom policies: create, edit, submit for approval, disable (decision 0262). Activation goes
 * through the one approval mechanism: this service is the handler of the `Policy` subject kind.
 */
@Injectable()
export class PolicyService implements OnModuleInit, ApprovalSubjectHandler {
  constructor(
    private readonly repository: PolicyRepository,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.approvals.registerSubject(ApprovalSubjectKind.Policy, this);
  }

  create(p: Principal, input: PolicyInput): Promise<PolicyEntity> {
    checkExpression(input.expression);
    return this.tx.run(async (tx) => {
      await this.ensureNameFree(tx, p.tenantId, input.name);
      const now = this.clock.now();
      const row = await this.repository.create(tx.manager, { tenantId: p.tenantId, name: input.name, description: input.description ?? '', expression: input.expression, status: PolicyStatus.Draft, createdBy: p.actor, createdAt: now, updatedAt: now, activatedAt: null });
      await this.audit.record(tx.manager, { entityType: 'Policy', entityId: row.id, action: 'Created', after: snapshot(row) });
      return row;
    });
  }

  update(p: Principal, id: string, input: Partial<PolicyInput>): Promise<PolicyEntity> {
    if (input.expression !== undefined) checkExpression(input.expression);
    return this.tx.run(async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      const before = snapshot(row);
      if (input.name !== undefined && input.name.toLowerCase() !== row.name.toLowerCase()) await this.ensureNameFree(tx, p.tenantId, input.name, id);
      const expressionChanged = input.expression !== undefined && input.expression !== row.expression;
      Object.assign(row, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.expression !== undefined ? { expression: input.expression } : {}),
        status: statusAfterEdit(row.status, expressionChanged),
        updatedAt: this.clock.now(),
      });
      const saved = await this.repository.save(tx.manager, row);
      await this.audit.record(tx.manager, { entityType: 'Policy', entityId: id, action: 'Edited', before, after: snapshot(saved), additional: { returnedToDraft: before.status === PolicyStatus.Active && saved.status === PolicyStatus.Draft } });
      // an edit while pending resets the approval
      if (saved.status === PolicyStatus.PendingApproval) await this.openApproval(tx, p, saved);
      return saved;
    });
  }

  submit(p: Principal, id: string): Promise<PolicyEntity> {
    return this.tx.run(async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      const saved = await this.move(tx, row, 'submit');
      await this.openApproval(tx, p, saved);
      return saved;
    });
  }

  disable(p: Principal, id: string): Promise<PolicyEntity> {
    return this.tx.run(async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      const saved = await this.move(tx, row, 'disable');
      await this.approvals.withdraw(tx, p.tenantId, ApprovalSubjectKind.Policy, id, 'the policy was disabled');
      return saved;
    });
  }

  /** Approve or reject through the policy's pending approval request. */
  async decide(p: Principal, id: string, decision: { approve: true; comment?: string } | { approve: false; reason: string }): Promise<PolicyEntity> {
    const pending = (await this.approvals.list({ tenantId: p.tenantId, status: 'Pending', subjectKind: ApprovalSubjectKind.Policy, subjectId: id }, { limit: 1 })).items[0];
    if (!pending) {
      await this.get(p.tenantId, id);
      throw new GovernanceException(GovernanceErrorCode.POLICY_TRANSITION_INVALID, 'The policy is not waiting for approval', { policyId: id });
    }
    if (decision.approve) await this.approvals.approve(p, pending.id, { comment: decision.comment });
    else await this.approvals.reject(p, pending.id, { reason: decision.reason });
    return this.get(p.tenantId, id);
  }

  async onApproved(tx: Tx, request: ApprovalRequestEntity): Promise<void> {
    const row = await this.locked(tx, request.tenantId, request.subjectId);
    await this.move(tx, row, 'approve', { approvalId: request.id });
  }

  async onRejected(tx: Tx, request: ApprovalRequestEntity, reason: string): Promise<void> {
    const row = await this.locked(tx, request.tenantId, request.subjectId);
    await this.move(tx, row, 'reject', { approvalId: request.id, reason });
  }

  async get(tenantId: string, id: string): Promise<PolicyEntity> {
    const row = await this.repository.find(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  list(tenantId: string, status: PolicyStatus | undefined, page: PageQuery): Promise<Page<PolicyEntity>> {
    return this.repository.list(tenantId, status, page);
  }

  settings(tenantId: string): Promise<TenantPolicySettings> {
    return this.repository.settings(tenantId);
  }

  updateSettings(p: Principal, settings: TenantPolicySettings): Promise<TenantPolicySettings> {
    return this.tx.run(async (tx) => {
      const before = await this.repository.settings(p.tenantId);
      // fourEyes left out of the body keeps its value
      const after = { ...settings, fourEyes: settings.fourEyes ?? before.fourEyes ?? false };
      await this.repository.saveSettings(tx.manager, p.tenantId, after, this.clock.now());
      await this.audit.record(tx.manager, { entityType: 'PolicySettings', entityId: p.tenantId, action: 'Edited', before, after });
      return after;
    });
  }

  private async openApproval(tx: Tx, p: Principal, row: PolicyEntity): Promise<void> {
    // the previously approved text, when there was one, is in the policy's audit trail (Edited.before)
    await this.approvals.request(tx, p, { subjectKind: ApprovalSubjectKind.Policy, subjectId: row.id, title: `Activate policy ${row.name}`, before: null, after: { name: row.name, description: row.description, expression: row.expression } });
  }

  private async move(tx: Tx, row: PolicyEntity, action: PolicyAction, additional?: Record<string, unknown>): Promise<PolicyEntity> {
    const to = transition(row.status, action);
    if (!to) throw new GovernanceException(GovernanceErrorCode.POLICY_TRANSITION_INVALID, `A ${row.status} policy cannot be ${action === 'submit' ? 'submitted' : `${action}d`}`, { policyId: row.id, status: row.status });
    const from = row.status;
    const now = this.clock.now();
    Object.assign(row, { status: to, updatedAt: now, ...(to === PolicyStatus.Active ? { activatedAt: now } : {}) });
    const saved = await this.repository.save(tx.manager, row);
    const verb = { submit: 'Submitted', approve: 'Activated', reject: 'Rejected', disable: 'Disabled' }[action];
    await this.audit.record(tx.manager, { entityType: 'Policy', entityId: row.id, action: verb, before: { status: from }, after: { status: to }, ...(additional ? { additional } : {}) });
    return saved;
  }

  private async locked(tx: Tx, tenantId: string, id: string): Promise<PolicyEntity> {
    const row = await this.repository.lock(tx.manager, tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  private async ensureNameFree(tx: Tx, tenantId: string, name: string, exceptId?: string): Promise<void> {
    if (await this.repository.nameTaken(tx.manager, tenantId, name, exceptId)) {
      throw new GovernanceException(GovernanceErrorCode.POLICY_NAME_TAKEN, `A policy named ${JSON.stringify(name)} already exists in this tenant`, { name });
    }
  }
}

function checkExpression(expression: string): void {
  const compiled = Expression.compile(expression);
  if (!compiled.ok) throw new GovernanceException(GovernanceErrorCode.POLICY_EXPRESSION_INVALID, `The expression does not compile: ${compiled.error.message}`, { error: compiled.error });
}

function notFound(id: string): GovernanceException {
  return new GovernanceException(GovernanceErrorCode.POLICY_NOT_FOUND, `Policy ${id} was not found`, { policyId: id });
}
