import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock, Page, PageQuery, Principal, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalService, ApprovalSubjectHandler } from '../approvals/approval.service';
import { ApprovalRequestEntity } from '../approvals/entities/approval-request.entity';
import { AuditService } from '../audit/audit.service';
import { ApprovalSubjectKind } from '../domain/approval';
import { ApprovalOperation, ApprovalRuleStatus, compileCondition, isApprovalOperation, RequiredApproval, requiredApproval } from '../domain/approval-rules/approval-rule';
import { Role } from '../domain/role';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { ApprovalRuleRepository } from './approval-rule.repository';
import { ApprovalRuleEntity } from './entities/approval-rule.entity';

export interface ApprovalRuleInput {
  name: string;
  description?: string;
  operation: ApprovalOperation;
  condition?: string | null;
  requiredRole?: Role;
  status?: ApprovalRuleStatus;
}

/** What the lib owning a gated operation does when its pending operation is decided, inside the decision's transaction. */
export interface ApprovalOperationHandler {
  /** Performs the operation now (it may refuse: the approval then fails and stays pending). */
  onApproved(tx: Tx, request: ApprovalRequestEntity, entityId: string): Promise<void>;
  /** The operation will not happen (the decision's audit row carries the reason). */
  onRejected?(tx: Tx, request: ApprovalRequestEntity, entityId: string, reason: string): Promise<void>;
}

export interface GatedOperationRequest {
  operation: ApprovalOperation;
  /** The entity the operation acts on (the request's subject is `<operation>:<entityId>`). */
  entityId: string;
  title: string;
  before: unknown;
  after: unknown;
  required: RequiredApproval;
}

const snapshot = (r: ApprovalRuleEntity) => ({ name: r.name, description: r.description, operation: r.operation, condition: r.condition, requiredRole: r.requiredRole, status: r.status });

/** The subject id of a gated operation's approval request. */
export function operationSubjectId(operation: ApprovalOperation, entityId: string): string {
  return `${operation}:${entityId}`;
}

/**
 * Tenant-defined approval rules (decision 0365): Admins say which operations need a second person;
 * the lib owning an operation asks `required` before acting and, when a rule applies, opens the
 * request with `requestFor` instead of acting. The one approval mechanism (decision 0261) decides;
 * this service is the handler of subject kind `Custom` and hands the decision to the operation's handler.
 */
@Injectable()
export class ApprovalRuleService implements OnModuleInit, ApprovalSubjectHandler {
  private readonly operations = new Map<ApprovalOperation, ApprovalOperationHandler>();

  constructor(
    private readonly repository: ApprovalRuleRepository,
    private readonly approvals: ApprovalService,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.approvals.registerSubject(ApprovalSubjectKind.Custom, this);
  }

  /** Called once by the lib owning `operation`, in every process that serves approvals. */
  registerOperation(operation: ApprovalOperation, handler: ApprovalOperationHandler): void {
    if (this.operations.has(operation)) throw new Error(`approval operation ${operation} already has a handler`);
    this.operations.set(operation, handler);
  }

  /** Whether the tenant's rules make `operation` with `context` wait for a second person (undefined: go ahead). */
  async required(tenantId: string, operation: ApprovalOperation, context: Record<string, unknown>, manager?: EntityManager): Promise<RequiredApproval | undefined> {
    const rules = await this.repository.active(tenantId, operation, manager);
    if (rules.length === 0) return undefined;
    return requiredApproval(rules, operation, context, { now: () => performance.now() });
  }

  /** Opens (or, asked again while pending, resets) the approval request of a gated operation, in the caller's transaction. */
  requestFor(tx: Tx, author: Principal, input: GatedOperationRequest): Promise<ApprovalRequestEntity> {
    return this.approvals.request(tx, author, {
      subjectKind: ApprovalSubjectKind.Custom,
      subjectId: operationSubjectId(input.operation, input.entityId),
      title: input.title,
      before: input.before,
      after: { operation: input.operation, ...(input.after as Record<string, unknown>), rules: input.required.rules },
      requiredRole: input.required.requiredRole,
    });
  }

  /**
   * Withdraws the pending request of a gated operation on `entityId`, in the caller's transaction: the
   * owning lib calls it when the operation can no longer happen (a Pending rollout aborted, decision
   * 0411). Audited (`ApprovalRequest.Withdrawn`, with the reason); undefined when none was pending.
   * Deciding it afterwards is refused 409 `APPROVAL_NOT_PENDING`.
   */
  withdrawFor(tx: Tx, by: Principal, operation: ApprovalOperation, entityId: string, reason: string): Promise<ApprovalRequestEntity | undefined> {
    return this.approvals.withdraw(tx, by.tenantId, ApprovalSubjectKind.Custom, operationSubjectId(operation, entityId), reason, by.actor);
  }

  async onApproved(tx: Tx, request: ApprovalRequestEntity): Promise<void> {
    const target = this.handlerOf(request);
    await target?.handler.onApproved(tx, request, target.entityId);
  }

  async onRejected(tx: Tx, request: ApprovalRequestEntity, reason: string): Promise<void> {
    const target = this.handlerOf(request);
    await target?.handler.onRejected?.(tx, request, target.entityId, reason);
  }

  create(p: Principal, input: ApprovalRuleInput): Promise<ApprovalRuleEntity> {
    const condition = normalize(input.condition);
    checkCondition(input.operation, condition);
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      await this.ensureNameFree(tx, p.tenantId, input.name);
      const now = this.clock.now();
      const row = await this.repository.create(tx.manager, {
        tenantId: p.tenantId,
        name: input.name,
        description: input.description ?? '',
        operation: input.operation,
        condition,
        requiredRole: input.requiredRole ?? Role.Operator,
        status: input.status ?? ApprovalRuleStatus.Active,
        createdBy: p.actor,
        createdAt: now,
        updatedAt: now,
      });
      await this.audit.record(tx.manager, { entityType: 'ApprovalRule', entityId: row.id, action: 'Created', after: snapshot(row) });
      return row;
    });
  }

  update(p: Principal, id: string, input: Partial<ApprovalRuleInput>): Promise<ApprovalRuleEntity> {
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      const operation = input.operation ?? (row.operation as ApprovalOperation);
      const condition = input.condition !== undefined ? normalize(input.condition) : row.condition;
      checkCondition(operation, condition);
      if (input.name !== undefined && input.name.toLowerCase() !== row.name.toLowerCase()) await this.ensureNameFree(tx, p.tenantId, input.name, id);
      const before = snapshot(row);
      Object.assign(row, {
        name: input.name ?? row.name,
        description: input.description ?? row.description,
        operation,
        condition,
        requiredRole: input.requiredRole ?? row.requiredRole,
        status: input.status ?? row.status,
        updatedAt: this.clock.now(),
      });
      const saved = await this.repository.save(tx.manager, row);
      await this.audit.record(tx.manager, { entityType: 'ApprovalRule', entityId: row.id, action: 'Edited', before, after: snapshot(saved) });
      return saved;
    });
  }

  delete(p: Principal, id: string): Promise<void> {
    return this.tx.runForTenant(p.tenantId, async (tx) => {
      const row = await this.locked(tx, p.tenantId, id);
      await this.repository.remove(tx.manager, p.tenantId, id);
      await this.audit.record(tx.manager, { entityType: 'ApprovalRule', entityId: id, action: 'Deleted', before: snapshot(row) });
    });
  }

  async get(tenantId: string, id: string): Promise<ApprovalRuleEntity> {
    const row = await this.repository.find(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  list(tenantId: string, filter: { status?: ApprovalRuleStatus; operation?: string }, page: PageQuery): Promise<Page<ApprovalRuleEntity>> {
    return this.repository.list(tenantId, filter, page);
  }

  /** The handler of a gated operation's request; undefined for a `Custom` subject that is not an operation (nothing to carry out). */
  private handlerOf(request: ApprovalRequestEntity): { handler: ApprovalOperationHandler; entityId: string } | undefined {
    const at = request.subjectId.indexOf(':');
    const operation = request.subjectId.slice(0, Math.max(at, 0));
    if (at <= 0 || !isApprovalOperation(operation)) return undefined;
    const handler = this.operations.get(operation);
    // an operation nobody here can carry out is not decided (it stays pending): never "approved" with nothing done
    if (!handler) throw new GovernanceException(GovernanceErrorCode.APPROVAL_OPERATION_UNAVAILABLE, `This process cannot carry out ${JSON.stringify(request.subjectId)}`, { subjectId: request.subjectId });
    return { handler, entityId: request.subjectId.slice(at + 1) };
  }

  private async locked(tx: Tx, tenantId: string, id: string): Promise<ApprovalRuleEntity> {
    const row = await this.repository.lock(tx.manager, tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  private async ensureNameFree(tx: Tx, tenantId: string, name: string, exceptId?: string): Promise<void> {
    if (await this.repository.nameTaken(tx.manager, tenantId, name, exceptId)) {
      throw new GovernanceException(GovernanceErrorCode.APPROVAL_RULE_NAME_TAKEN, `An approval rule named ${JSON.stringify(name)} already exists in this tenant`, { name });
    }
  }
}

function normalize(condition: string | null | undefined): string | null {
  return condition === undefined || condition === null || condition.trim() === '' ? null : condition;
}

function checkCondition(operation: string, condition: string | null): void {
  const compiled = compileCondition(operation, condition);
  if (!compiled.ok) throw new GovernanceException(GovernanceErrorCode.APPROVAL_RULE_CONDITION_INVALID, `The approval rule is refused: ${compiled.message}`);
}

function notFound(id: string): GovernanceException {
  return new GovernanceException(GovernanceErrorCode.APPROVAL_RULE_NOT_FOUND, `Approval rule ${id} was not found`, { approvalRuleId: id });
}
