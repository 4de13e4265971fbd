import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import type { TargetState } from '../domain/gates';

/** One agent a step of a rollout took. */
@Entity({ name: 'rollout_targets' })
@Index('ix_rollout_targets_step', ['rolloutId', 'step', 'position'])
@Index('ix_rollout_targets_agent', ['agentId'])
@Check('ck_rollout_targets_state', `state IN ('Pending', 'Applying', 'Applied', 'Failed', 'Skipped')`)
export class RolloutTargetEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_rollout_targets' })
  rolloutId!: string;

  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_rollout_targets' })
  agentId!: string;

  @ManyToOne('RolloutEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'rollout_id', foreignKeyConstraintName: 'fk_rollout_targets_rollout' })
  rollout?: unknown;


  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'integer' })
  step!: number;

  /** Order within the rollout (the ordering's rank). */
  @Column({ type: 'integer' })
  position!: number;

  @Column({ type: 'varchar', length: 10, default: 'Pending' })
  state!: TargetState;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** The policy a push-time check denied the agent's push by (the target is Skipped, `reason` says why). */
  @Column({ type: 'text', nullable: true })
  deniedByPolicyId!: string | null;

  @Column({ type: 'text', nullable: true })
  deniedByPolicyName!: string | null;

  /** The rollout's version was assigned to the agent (a rollback reaches exactly these). */
  @Column({ type: 'boolean', default: false })
  assigned!: boolean;

  /** When the version was assigned to the agent: a Rollback counts only statuses reported after it. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  assignedAt!: Date | null;

  /** A package rollout: the version of the package the agent had before (null: none), put back by an abort or a rollback. */
  @Column({ type: 'uuid', nullable: true })
  previousPackageVersionId!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  pushedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  appliedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  disconnectedAt!: Date | null;

  @Column({ type: 'boolean', default: false })
  recovered!: boolean;

  @Column({ type: 'boolean', nullable: true })
  healthy!: boolean | null;

  @Column({ type: 'boolean', nullable: true })
  effectiveMatches!: boolean | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
