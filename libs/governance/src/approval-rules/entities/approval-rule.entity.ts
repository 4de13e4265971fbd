import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { ApprovalRuleStatus } from '../../domain/approval-rules/approval-rule';
import type { Role } from '../../domain/role';

/** A tenant's approval rule (decision 0365): which operation, under which condition, needs a second person of which role. */
@Entity({ name: 'approval_rules' })
// unique per tenant, case-insensitively: an expression index (lower(name)) the decorators cannot describe
@Index('ux_approval_rules_tenant_name', { synchronize: false })
@Index('ix_approval_rules_tenant_operation', ['tenantId', 'operation', 'status'])
@Check('ck_approval_rules_status', `status IN ('Active', 'Disabled')`)
@Check('ck_approval_rules_role', `required_role IN ('Operator', 'Admin')`)
export class ApprovalRuleEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_approval_rules' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 2000, default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 64 })
  operation!: string;

  @Column({ type: 'text', nullable: true })
  condition!: string | null;

  @Column({ type: 'varchar', length: 16 })
  requiredRole!: Role;

  @Column({ type: 'varchar', length: 8 })
  status!: ApprovalRuleStatus;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
