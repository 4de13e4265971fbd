import { Injectable } from '@nestjs/common';
import { Clock, LiveBus, Page, PageQuery, PublishableEvent, Principal, redactValue, TransactionRunner, Tx } from '@ampora/platform';
import { AuditService } from '../audit/audit.service';
import { ApprovalIdentity, ApprovalStatus, ApprovalSubjectKind, refuseDecision, resetOnEdit } from '../domain/approval';
import { Role, roleAtLeast } from '../domain/role';
import { storable } from '../domain/storable';
import { GovernanceErrorCode, GovernanceException } from '../governance.errors';
import { GovernanceEvent, GovernanceEvents } from '../governance.events';
import { ApprovalFilter, ApprovalRepository } from './approval.repository';
import { ApprovalRequestEntity } from './entities/approval-request.entity';

/** What a domain does when its change is decided, inside the decision's transaction. */
export interface ApprovalSubjectHandler {
  onApproved(tx: Tx, request: ApprovalRequestEntity): Promise<void>;
  onRejected(tx: Tx, request: ApprovalRequestEntity, reason: string): Promise<void>;
}

export interface ApprovalRequestInput {
  subjectKind: ApprovalSubjectKind;
  subjectId: string;
  title: string;
  before: unknown;
  after: unknown;
  /** The role a reviewer needs (Admin by default: policies, signing keys, federation peers). */
  requiredRole?: Role;
}

export function identityOf(p: Principal): ApprovalIdentity {
  return { tenantId: p.tenantId, actor: p.actor, kind: p.kind, role: p.role };
}

/**
 * Four-eyes approvals, one mechanism for every domain (decision 0261). A domain opens a request for
 * its subject (`request`, inside its own transaction), registers a handler for its subject kind, and
 * hears the decision in the decision's transaction; everyone else hears `GovernanceEvents`.
 */
@Injectable()
export class ApprovalService {
  private readonly handlers = new Map<ApprovalSubjectKind, ApprovalSubjectHandler>();

  constructor(
    private readonly repository: ApprovalRepository,
    private readonly audit: AuditService,
    private readonly tx: TransactionRunner,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
  ) {}

  registerSubject(kind: ApprovalSubjectKind, handler: ApprovalSubjectHandler): void {
    if (this.handlers.has(kind)) throw new Error(`approval subject ${kind} already has a handler`);
    this.handlers.set(kind, handler);
  }

  /**
   * Opens the request for a subject, or, when one is pending, resets it with the new diff (an edit
   * while pending): the revision moves on and the editor joins the authors. Audited.
   */
  async request(tx: Tx, author: Principal, input: ApprovalRequestInput): Promise<ApprovalRequestEntity> {
    const now = this.clock.now();
    const editor = identityOf(author);
    const before = storable(redactValue(input.before ?? null));
    const after = storable(redactValue(input.after ?? null));
    const open = await this.repository.lockPendingFor(tx.manager, author.tenantId, input.subjectKind, input.subjectId);
    let row: ApprovalRequestEntity;
    let type: typeof GovernanceEvents.ApprovalRequested | typeof GovernanceEvents.ApprovalReset;
    if (open) {
      const reset = resetOnEdit(open, editor);
      Object.assign(open, { revision: reset.revision, authors: reset.authors, title: input.title, after, updatedAt: now });
      row = await this.repository.save(tx.manager, open);
      type = GovernanceEvents.ApprovalReset;
    } else {
      row = await this.repository.create(tx.manager, {
        tenantId: author.tenantId,
        subjectKind: input.subjectKind,
        subjectId: input.subjectId,
        title: input.title,
        status: ApprovalStatus.Pending,
        revision: 1,
        requiredRole: input.requiredRole ?? Role.Admin,
        before,
        after,
        authors: [editor],
        decidedBy: null,
        decidedByKind: null,
        decidedByRole: null,
        decidedAt: null,
        reason: null,
        createdAt: now,
        updatedAt: now,
      });
      type = GovernanceEvents.ApprovalRequested;
    }
    await this.audit.record(tx.manager, {
      entityType: 'ApprovalRequest',
      entityId: row.id,
      action: open ? 'Reset' : 'Requested',
      after: { status: row.status, revision: row.revision },
      additional: { subjectKind: row.subjectKind, subjectId: row.subjectId, authors: row.authors, diff: { before: row.before, after: row.after } },
    });
    tx.afterCommit(() => this.publish({ type, tenantId: row.tenantId, entityId: row.id, payload: this.payload(row, editor.actor) }));
    return row;
  }

  /**
   * Closes a pending request without a decision (its subject was disabled or deleted, or the operation
   * it asks for will not happen). Audited; `by` names who withdrew it in the live event (the audit row
   * has the request's principal).
   */
  async withdraw(tx: Tx, tenantId: string, subjectKind: ApprovalSubjectKind, subjectId: string, reason: string, by = 'system'): Promise<ApprovalRequestEntity | undefined> {
    const open = await this.repository.lockPendingFor(tx.manager, tenantId, subjectKind, subjectId);
    if (!open) return undefined;
    Object.assign(open, { status: ApprovalStatus.Withdrawn, reason, updatedAt: this.clock.now() });
    const row = await this.repository.save(tx.manager, open);
    await this.audit.record(tx.manager, { entityType: 'ApprovalRequest', entityId: row.id, action: 'Withdrawn', before: { status: ApprovalStatus.Pending }, after: { status: row.status }, additional: { subjectKind, subjectId, reason } });
    tx.afterCommit(() => this.publish({ type: GovernanceEvents.ApprovalWithdrawn, tenantId, entityId: row.id, payload: this.payload(row, by, reason) }));
    return row;
  }

  approve(decider: Principal, id: string, options: { revision?: number; comment?: string } = {}): Promise<ApprovalRequestEntity> {
    return this.decide(decider, id, ApprovalStatus.Approved, options.comment ?? null, options.revision);
  }

  reject(decider: Principal, id: string, options: { reason: string; revision?: number }): Promise<ApprovalRequestEntity> {
    return this.decide(decider, id, ApprovalStatus.Rejected, options.reason, options.revision);
  }

  async get(tenantId: string, id: string): Promise<ApprovalRequestEntity> {
    const row = await this.repository.find(tenantId, id);
    if (!row) throw notFound(id);
    return row;
  }

  list(filter: ApprovalFilter, page: PageQuery): Promise<Page<ApprovalRequestEntity>> {
    return this.repository.list(filter, page);
  }

  private decide(decider: Principal, id: string, status: 'Approved' | 'Rejected', reason: string | null, seenRevision?: number): Promise<ApprovalRequestEntity> {
    return this.tx.run(async (tx) => {
      const row = await this.repository.lock(tx.manager, decider.tenantId, id);
      if (!row) throw notFound(id);
      const identity = identityOf(decider);
      const refusal = refuseDecision(row, identity, seenRevision);
      if (refusal) throw new GovernanceException(GovernanceErrorCode[refusal.code], refusal.message, { approvalId: id, revision: row.revision });
      if (!roleAtLeast(decider.role, row.requiredRole as Role)) {
        throw new GovernanceException(GovernanceErrorCode.APPROVAL_ROLE_REQUIRED, `Deciding this request needs the ${row.requiredRole} role`, { requiredRole: row.requiredRole });
      }
      Object.assign(row, { status, decidedBy: decider.actor, decidedByKind: decider.kind, decidedByRole: decider.role, decidedAt: this.clock.now(), reason, updatedAt: this.clock.now() });
      const saved = await this.repository.save(tx.manager, row);
      const handler = this.handlers.get(row.subjectKind);
      if (status === ApprovalStatus.Approved) await handler?.onApproved(tx, saved);
      else await handler?.onRejected(tx, saved, reason ?? '');
      await this.audit.record(tx.manager, {
        entityType: 'ApprovalRequest',
        entityId: saved.id,
        action: status,
        before: { status: ApprovalStatus.Pending, revision: saved.revision },
        after: { status },
        additional: {
          subjectKind: saved.subjectKind,
          subjectId: saved.subjectId,
          revision: saved.revision,
          authors: saved.authors,
          decider: identity,
          diff: { before: saved.before, after: saved.after },
          reason,
        },
      });
      const type = status === ApprovalStatus.Approved ? GovernanceEvents.ApprovalApproved : GovernanceEvents.ApprovalRejected;
      tx.afterCommit(() => this.publish({ type, tenantId: saved.tenantId, entityId: saved.id, payload: this.payload(saved, decider.actor, reason ?? undefined) }));
      return saved;
    });
  }

  private payload(row: ApprovalRequestEntity, actor: string, reason?: string) {
    return { approvalId: row.id, subjectKind: row.subjectKind, subjectId: row.subjectId, revision: row.revision, actor, ...(reason ? { reason } : {}) };
  }

  private publish(event: PublishableEvent<GovernanceEvent>): void {
    this.bus.publish<GovernanceEvent>(event);
  }
}

function notFound(id: string): GovernanceException {
  return new GovernanceException(GovernanceErrorCode.APPROVAL_NOT_FOUND, `Approval request ${id} was not found`, { approvalId: id });
}
