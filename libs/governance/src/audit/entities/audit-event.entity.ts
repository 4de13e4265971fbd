import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'audit_events' })
@Index('ix_audit_events_tenant_time', ['tenantId', 'occurredAt', 'id'])
@Index('ix_audit_events_time', ['occurredAt', 'id'])
@Index('ix_audit_events_tenant_entity', ['tenantId', 'entityType', 'entityId'])
@Index('ix_audit_events_tenant_actor', ['tenantId', 'actor'])
@Index('ix_audit_events_tenant_action', ['tenantId', 'action'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_audit_events' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 200 })
  actor!: string;

  @Column({ type: 'varchar', length: 16, nullable: true })
  actorRole!: string | null;

  @Column({ type: 'varchar', length: 64 })
  entityType!: string;

  @Column({ type: 'varchar', length: 200 })
  entityId!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  occurredAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sourceIp!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  traceId!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  additional!: unknown;
}
