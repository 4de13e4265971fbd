import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { currentTraceId, Page, PageQuery, redactValue, RequestContext, SYSTEM_ACTOR } from '@ampora/platform';
import { storable } from '../domain/storable';
import { AuditFilter, AuditRepository, AuditRow } from './audit.repository';
import { AuditEventEntity } from './entities/audit-event.entity';

export interface AuditInput {
  entityType: string;
  entityId: string;
  action: string;
  before?: unknown;
  after?: unknown;
  additional?: Record<string, unknown>;
  /** Needed only outside a request (jobs, agents); inside one, the caller's tenant is used. */
  tenantId?: string;
  /** Overrides the actor; defaults to the request's principal, or `system`. */
  actor?: string;
  actorRole?: string | null;
  /**
   * A consequence the system records about the route's change (a push-time check's denial), not the
   * change itself: it does not count toward the route's one audit event (decision 0275).
   */
  consequence?: boolean;
}

/**
 * Writes append-only audit events. Domains call `record` with the EntityManager of their own
 * transaction, so the event commits or rolls back with the change it describes.
 */
@Injectable()
export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  async record(manager: EntityManager | undefined, input: AuditInput): Promise<AuditEventEntity> {
    const scope = RequestContext.current();
    const principal = scope?.principal;
    const tenantId = input.tenantId ?? principal?.tenantId ?? scope?.tenantId;
    if (!tenantId) throw new Error(`audit event ${input.entityType}.${input.action} has no tenant`);
    const row = await this.repository.insert(manager, {
      tenantId,
      actor: input.actor ?? principal?.actor ?? SYSTEM_ACTOR,
      actorRole: input.actorRole !== undefined ? input.actorRole : (principal?.role ?? null),
      entityType: input.entityType,
      entityId: input.entityId,
      action: input.action,
      before: input.before === undefined ? null : storable(redactValue(input.before)),
      after: input.after === undefined ? null : storable(redactValue(input.after)),
      sourceIp: scope?.sourceIp ?? null,
      traceId: currentTraceId() ?? null,
      additional: input.additional === undefined ? null : storable(redactValue(input.additional)),
    });
    if (scope && !input.consequence) scope.auditWrites += 1;
    return row;
  }

  list(filter: AuditFilter, page: PageQuery): Promise<Page<AuditRow>> {
    return this.repository.list(filter, page);
  }
}
