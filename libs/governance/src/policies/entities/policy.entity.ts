import { Check, Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { PolicyStatus } from '../../domain/policy/policy-lifecycle';
import type { PolicyMode } from '../../domain/policy/policy-evaluation';

@Entity({ name: 'policies' })
// unique per tenant, case-insensitively: an expression index (lower(name)) the decorators cannot describe
@Index('ux_policies_tenant_name', { synchronize: false })
@Index('ix_policies_tenant_status', ['tenantId', 'status'])
@Check('ck_policies_status', `status IN ('Draft', 'PendingApproval', 'Active', 'Disabled')`)
export class PolicyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_policies' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 2000, default: '' })
  description!: string;

  @Column({ type: 'text' })
  expression!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: PolicyStatus;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  activatedAt!: Date | null;
}

@Entity({ name: 'tenant_policy_settings' })
@Check('ck_tenant_policy_settings_mode', `mode IN ('required', 'shadow')`)
export class TenantPolicySettingsEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_tenant_policy_settings' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 16, default: 'required' })
  mode!: PolicyMode;

  @Column({ type: 'boolean', default: true })
  exporterSwap!: boolean;

  @Column({ type: 'boolean', default: true })
  insecureTlsExporter!: boolean;

  /** Four-eyes mode: lint-rule changes go through approvals (decision 0300). */
  @Column({ type: 'boolean', default: false })
  fourEyes!: boolean;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
