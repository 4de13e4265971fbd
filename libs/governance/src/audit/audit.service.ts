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
    return this.repository.insert(manager, this.row(input));
  }

  /**
   * One audit event written by the caller's own statement, as a data-modifying CTE named `name`
   * (decision 0415): a change made in one statement (an enrolment) gets its event in that statement,
   * so it commits or rolls back with the change, without a transaction around two statements. The
   * event is written once per row of the caller's CTE `gate` (one row when the change happened, none
   * when it did not); `additionalSql` is a jsonb expression over `gate`'s columns (ids the statement
   * itself makes) merged into `additional`. `param` adds a value to the caller's parameters and gives
   * its placeholder.
   */
  recordInStatement(input: AuditInput, part: { name: string; gate: string; additionalSql?: string; param: (value: unknown) => string }): string {
    const row = this.row(input);
    const p = part.param;
    const json = (value: unknown) => `${p(value === null ? null : JSON.stringify(value))}::jsonb`;
    const additional = part.additionalSql ? `COALESCE(${json(row.additional)}, '{}'::jsonb) || (${part.additionalSql})` : json(row.additional);
    return `${part.name} AS (
      INSERT INTO audit_events (tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, source_ip, trace_id, additional)
      SELECT ${p(row.tenantId)}::uuid, ${p(row.actor)}, ${p(row.actorRole)}, ${p(row.entityType)}, ${p(row.entityId)}, ${p(row.action)}, ${json(row.before)}, ${json(row.after)}, ${p(row.sourceIp)}, ${p(row.traceId)}, ${additional}
      FROM ${part.gate}
      RETURNING id
    )`;
  }

  /** The stored row of an event (redacted, storable), counted toward the request's audit writes. */
  private row(input: AuditInput): Omit<AuditEventEntity, 'id' | 'occurredAt'> {
    const scope = RequestContext.current();
    const principal = scope?.principal;
    const tenantId = input.tenantId ?? principal?.tenantId ?? scope?.tenantId;
    if (!tenantId) throw new Error(`audit event ${input.entityType}.${input.action} has no tenant`);
    const row = {
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
    };
    if (scope && !input.consequence) scope.auditWrites += 1;
    return row as Omit<AuditEventEntity, 'id' | 'occurredAt'>;
  }

  list(filter: AuditFilter, page: PageQuery): Promise<Page<AuditRow>> {
    return this.repository.list(filter, page);
  }
}
