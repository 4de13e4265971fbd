import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LintRuleStatus, LintSeverity } from '../../domain/lint/lint-rule';

/** The rule as a change proposes it (four-eyes mode): what approval applies. */
export interface LintRuleProposal {
  name: string;
  description: string;
  expression: string;
  severity: LintSeverity;
  status: LintRuleStatus;
}

/** A change waiting for approval: `create` and `update` carry the rule as proposed. */
export interface PendingLintChange {
  op: 'create' | 'update' | 'delete';
  rule: LintRuleProposal | null;
  approvalId: string;
  proposedBy: string;
}

@Entity({ name: 'lint_rules' })
// unique per tenant, case-insensitively: an expression index (lower(name)) the decorators cannot describe
@Index('ux_lint_rules_tenant_name', { synchronize: false })
@Index('ix_lint_rules_tenant_status', ['tenantId', 'status'])
@Check('ck_lint_rules_status', `status IN ('Active', 'Disabled')`)
@Check('ck_lint_rules_severity', `severity IN ('Error', 'Warning', 'Info')`)
export class LintRuleEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_lint_rules' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 2000, default: '' })
  description!: string;

  @Column({ type: 'text' })
  expression!: string;

  @Column({ type: 'varchar', length: 8 })
  severity!: LintSeverity;

  @Column({ type: 'varchar', length: 8 })
  status!: LintRuleStatus;

  @Column({ type: 'jsonb', nullable: true })
  pendingChange!: PendingLintChange | null;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}
