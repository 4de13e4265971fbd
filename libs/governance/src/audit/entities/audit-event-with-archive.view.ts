import { ViewColumn, ViewEntity } from 'typeorm';

/** The hot audit log and its archive in one read-only relation (created by migration 1764000150000). */
@ViewEntity({ name: 'audit_events_with_archive', synchronize: false })
export class AuditEventWithArchiveView {
  @ViewColumn() id!: string;
  @ViewColumn({ name: 'tenant_id' }) tenantId!: string;
  @ViewColumn() actor!: string;
  @ViewColumn({ name: 'actor_role' }) actorRole!: string | null;
  @ViewColumn({ name: 'entity_type' }) entityType!: string;
  @ViewColumn({ name: 'entity_id' }) entityId!: string;
  @ViewColumn() action!: string;
  @ViewColumn() before!: unknown;
  @ViewColumn() after!: unknown;
  @ViewColumn({ name: 'occurred_at' }) occurredAt!: Date;
  @ViewColumn({ name: 'source_ip' }) sourceIp!: string | null;
  @ViewColumn({ name: 'trace_id' }) traceId!: string | null;
  @ViewColumn() additional!: unknown;
  @ViewColumn() archived!: boolean;
}
