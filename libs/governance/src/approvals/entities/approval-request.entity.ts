import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ApprovalIdentity, ApprovalStatus, ApprovalSubjectKind } from '../../domain/approval';

@Entity({ name: 'approval_requests' })
@Index('ux_approval_requests_pending_subject', ['tenantId', 'subjectKind', 'subjectId'], { unique: true, where: `status = 'Pending'` })
@Index('ix_approval_requests_tenant_created', ['tenantId', 'createdAt', 'id'])
@Check('ck_approval_requests_status', `status IN ('Pending', 'Approved', 'Rejected', 'Withdrawn')`)
@Check('ck_approval_requests_subject_kind', `subject_kind IN ('Policy', 'SigningKey', 'FederationPeer', 'LintRule', 'Custom')`)
export class ApprovalRequestEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_approval_requests' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 32 })
  subjectKind!: ApprovalSubjectKind;

  @Column({ type: 'varchar', length: 200 })
  subjectId!: string;

  @Column({ type: 'varchar', length: 300 })
  title!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ApprovalStatus;

  @Column({ type: 'integer', default: 1 })
  revision!: number;

  @Column({ type: 'varchar', length: 16 })
  requiredRole!: string;

  @Column({ type: 'jsonb', nullable: true })
  before!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  after!: unknown;

  @Column({ type: 'jsonb' })
  authors!: ApprovalIdentity[];

  @Column({ type: 'varchar', length: 200, nullable: true })
  decidedBy!: string | null;

  @Column({ type: 'varchar', length: 8, nullable: true })
  decidedByKind!: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  decidedByRole!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  decidedAt!: Date | null;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
