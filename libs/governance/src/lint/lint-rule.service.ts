import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock, Page, PageQuery, Principal, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalService, ApprovalSubjectHandler } from '../approvals/approval.service';
import { ApprovalRequestEntity } from '../approvals/entities/approval-request.entity';
import { AuditService } from '../audit/audit.service';
import { ApprovalSubjectKind } from '../domain/approval';
import { compileLintExpression, LintRuleSet, LintRuleStatus, LintSeverity } from '../domain/lint/lint-rule';
import { Role } from '../domain/role';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { PolicyRepository } from '../policies/policy.repository';
import { LintRuleEntity, LintRuleProposal, PendingLintChange } from './entities/lint-rule.entity';
import { LintRuleRepository } from './lint-rule.repository';

export interface LintRuleInput {
  name: string;
  description?: string;
  expression: string;
  severity: LintSeverity;
  status?: LintRuleStatus;
}

const proposal = (r: LintRuleEntity): LintRuleProposal => ({ name: r.name, description: r.description, expression: r.expression, severity: r.severity, status: r.status });
const snapshot = (r: LintRuleEntity) => ({ ...proposal(r), pendingChange: r.pendingChange });

/**
 * Tenant lint rules (decision 0300): created, edited, enabled, disabled and deleted by Admins. When
 * the tenant's four-eyes mode is on, every change waits as the rule's `pendingChange` for another
 * person's approval (subject kind `LintRule`), and this service applies it when approved.
 */
@Injectable()
export class LintRuleService implements OnModuleInit, ApprovalSubjectHandler {
  constructor(
    private readonly repository: LintRuleRepository,
    private readonly settings: PolicyRepository,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.approvals.registerSubject(ApprovalSubjectKind.LintRule, this);
  }

  /** The tenant's Active rules, compiled once, for version validation (read in `manager`'s transaction when given). */
  async activeRules(tenantId: string, manager?: EntityManager): Promise<LintRuleSet> {
    return new LintRuleSet(await this.repository.active(tenantId, manager));
  }

  create(p: Principal, input: LintRuleInput): Promise<LintRuleEntity> {
    checkExpression(input.expression);
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      await this.ensureNameFree(tx, p.tenantId, input.name);
      const fourEyes = await this.fourEyes(p.tenantId);
      const desired: LintRuleProposal = { name: input.name, description: input.description ?? '', expression: input.expression, severity: input.severity, status: input.status ?? LintRuleStatus.Active };
      const now = this.clock.now();
      // under four-eyes the rule exists at once but stays Disabled until its creation is approved
      const row = await this.repository.create(tx.manager, { tenantId: p.tenantId, ...desired, status: fourEyes ? LintRuleStatus.Disabled : desired.status, pendingChange: null, createdBy: p.actor, createdAt: now, updatedAt: now });
      await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: row.id, action: 'Created', after: snapshot(row) });
      return fourEyes ? this.propose(tx, p, row, 'create', desired) : row;
    });
  }

  update(p: Principal, id: string, input: Partial<LintRuleInput>): Promise<LintRuleEntity> {
    if (input.expression !== undefined) checkExpression(input.expression);
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      const pending = row.pendingChange;
      const base = pending?.rule ?? proposal(row);
      const desired: LintRuleProposal = {
        name: input.name ?? base.name,
        description: input.description ?? base.description,
        expression: input.expression ?? base.expression,
        severity: input.severity ?? base.severity,
        status: input.status ?? base.status,
      };
      if (desired.name.toLowerCase() !== row.name.toLowerCase()) await this.ensureNameFree(tx, p.tenantId, desired.name, id);
      if (await this.fourEyes(p.tenantId)) return this.propose(tx, p, row, pending?.op === 'create' ? 'create' : 'update', desired);
      return this.apply(tx, row, desired, 'Edited', {});
    });
  }

  delete(p: Principal, id: string): Promise<LintRuleEntity | null> {
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      if (await this.fourEyes(p.tenantId)) return this.propose(tx, p, row, 'delete', null);
      await this.approvals.withdraw(tx, p.tenantId, ApprovalSubjectKind.LintRule, id, 'the lint rule was deleted');
      await this.repository.remove(tx.manager, p.tenantId, id);
      await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: id, action: 'Deleted', before: snapshot(row) });
      return null;
    });
  }

  async onApproved(tx: Tx, request: ApprovalRequestEntity): Promise<void> {
    const row = await this.repository.lock(tx.manager, request.tenantId, request.subjectId);
    const change = row?.pendingChange;
    if (!row || !change) return;
    if (change.op === 'delete') {
      await this.repository.remove(tx.manager, row.tenantId, row.id);
      await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: row.id, action: 'Deleted', before: snapshot(row), additional: { approvalId: request.id } });
      return;
    }
    if (change.rule!.name.toLowerCase() !== row.name.toLowerCase()) await this.ensureNameFree(tx, row.tenantId, change.rule!.name, row.id);
    await this.apply(tx, row, change.rule!, 'ChangeApplied', { approvalId: request.id, op: change.op });
  }

  async onRejected(tx: Tx, request: ApprovalRequestEntity, reason: string): Promise<void> {
    const row = await this.repository.lock(tx.manager, request.tenantId, request.subjectId);
    if (!row?.pendingChange) return;
    const before = snapshot(row);
    Object.assign(row, { pendingChange: null, updatedAt: this.clock.now() });
    const saved = await this.repository.save(tx.manager, row);
    await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: row.id, action: 'ChangeRejected', before, after: snapshot(saved), additional: { approvalId: request.id, reason } });
  }

  async get(tenantId: string, id: string): Promise<LintRuleEntity> {
    const row = await this.repository.find(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  list(tenantId: string, status: LintRuleStatus | undefined, page: PageQuery): Promise<Page<LintRuleEntity>> {
    return this.repository.list(tenantId, status, page);
  }

  /** Stores the change as pending and opens (or resets) its approval request. Audited. */
  private async propose(tx: Tx, p: Principal, row: LintRuleEntity, op: PendingLintChange['op'], rule: LintRuleProposal | null): Promise<LintRuleEntity> {
    const title = `${{ create: 'Create', update: 'Change', delete: 'Delete' }[op]} lint rule ${rule?.name ?? row.name}`;
    const approval = await this.approvals.request(tx, p, {
      subjectKind: ApprovalSubjectKind.LintRule,
      subjectId: row.id,
      title,
      before: op === 'create' ? null : proposal(row),
      after: rule,
      requiredRole: Role.Admin,
    });
    const before = snapshot(row);
    Object.assign(row, { pendingChange: { op, rule, approvalId: approval.id, proposedBy: p.actor }, updatedAt: this.clock.now() });
    const saved = await this.repository.save(tx.manager, row);
    await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: row.id, action: 'ChangeProposed', before, after: snapshot(saved), additional: { approvalId: approval.id, op } });
    return saved;
  }

  private async apply(tx: Tx, row: LintRuleEntity, desired: LintRuleProposal, action: string, additional: Record<string, unknown>): Promise<LintRuleEntity> {
    const before = snapshot(row);
    Object.assign(row, desired, { pendingChange: null, updatedAt: this.clock.now() });
    const saved = await this.repository.save(tx.manager, row);
    await this.audit.record(tx.manager, { entityType: 'LintRule', entityId: row.id, action, before, after: snapshot(saved), additional });
    return saved;
  }

  private async fourEyes(tenantId: string): Promise<boolean> {
    return (await this.settings.settings(tenantId)).fourEyes === true;
  }

  private async locked(tx: Tx, tenantId: string, id: string): Promise<LintRuleEntity> {
    const row = await this.repository.lock(tx.manager, tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  private async ensureNameFree(tx: Tx, tenantId: string, name: string, exceptId?: string): Promise<void> {
    if (await this.repository.nameTaken(tx.manager, tenantId, name, exceptId)) {
      throw new GovernanceException(GovernanceErrorCode.LINT_RULE_NAME_TAKEN, `A lint rule named ${JSON.stringify(name)} already exists in this tenant`, { name });
    }
  }
}

function checkExpression(expression: string): void {
  const compiled = compileLintExpression(expression);
  if (!compiled.ok) throw new GovernanceException(GovernanceErrorCode.LINT_RULE_EXPRESSION_INVALID, `The lint rule is refused: ${compiled.message}`);
}

function notFound(id: string): GovernanceException {
  return new GovernanceException(GovernanceErrorCode.LINT_RULE_NOT_FOUND, `Lint rule ${id} was not found`, { lintRuleId: id });
}
