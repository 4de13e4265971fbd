import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { PolicyStatus } from '../../domain/policy/policy-lifecycle';
import type { PolicyMode } from '../../domain/policy/policy-evaluation';

@Entity({ name: 'policies' })
export class PolicyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_policies' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 2000 })
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
export class TenantPolicySettingsEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_tenant_policy_settings' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 16 })
  mode!: PolicyMode;

  @Column({ type: 'boolean' })
  exporterSwap!: boolean;

  @Column({ type: 'boolean' })
  insecureTlsExporter!: boolean;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
