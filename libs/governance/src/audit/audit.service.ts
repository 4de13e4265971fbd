import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { currentTraceId, Page, PageQuery, redactValue, RequestContext, SYSTEM_ACTOR } from '@ampora/platform';
import { storable } from '../domain/storable';
import { AuditFilter, AuditRepository, AuditRow } from './audit.repository';
import { AuditEventEntity } from './entities/audit-event.entity';

/** An audit event made in its request's context, for a statement that writes it later (`AuditService.prepare`). */
export interface PreparedAuditEvent {
  readonly row: Omit<AuditEventEntity, 'id' | 'occurredAt'>;
}

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
   * An event for `recordEachInStatement`, made now, in the caller's request and trace (its actor,
   * source address and trace id), so a statement that writes the events of several requests gives
   * each its own.
   */
  prepare(input: AuditInput): PreparedAuditEvent {
    return { row: this.row(input) };
  }

  /**
   * Audit events written by the caller's own statement, as a data-modifying CTE named `name`
   * (decisions 0415, 0440): a change made in one statement (enrolments, several at once) gets its
   * events in that statement, so they commit or roll back with it, without a transaction around two
   * statements. An event is written for each row of the caller's CTE `gate` whose `match` (an SQL
   * expression over `gate`'s columns) equals the event's entity id: none when the change did not
   * happen for it. `additionalSql` is a jsonb expression over `gate`'s columns (ids the statement
   * itself makes) merged into `additional`. `param` adds a value to the caller's parameters and gives
   * its placeholder.
   */
  recordEachInStatement(
    events: readonly PreparedAuditEvent[],
    part: { name: string; gate: string; match: string; additionalSql?: string; param: (value: unknown) => string },
  ): string {
    const rows = events.map((e) => e.row);
    const p = part.param;
    const column = (pick: (row: PreparedAuditEvent['row']) => unknown) => p(rows.map(pick));
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
    const additional = part.additionalSql ? `COALESCE(e.additional::jsonb, '{}'::jsonb) || (${part.additionalSql})` : 'e.additional::jsonb';
    return `${part.name} AS (
      INSERT INTO audit_events (tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, source_ip, trace_id, additional)
      SELECT e.tenant_id, e.actor, e.actor_role, e.entity_type, e.entity_id, e.action, e.before::jsonb, e.after::jsonb, e.source_ip, e.trace_id, ${additional}
      FROM unnest(${column((r) => r.tenantId)}::uuid[], ${column((r) => r.actor)}::text[], ${column((r) => r.actorRole)}::text[], ${column((r) => r.entityType)}::text[],
                  ${column((r) => r.entityId)}::text[], ${column((r) => r.action)}::text[], ${column((r) => json(r.before))}::text[], ${column((r) => json(r.after))}::text[],
                  ${column((r) => r.sourceIp)}::text[], ${column((r) => r.traceId)}::text[], ${column((r) => json(r.additional))}::text[])
        AS e(tenant_id, actor, actor_role, entity_type, entity_id, action, before, after, source_ip, trace_id, additional)
      JOIN ${part.gate} ON (${part.match}) = e.entity_id
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
