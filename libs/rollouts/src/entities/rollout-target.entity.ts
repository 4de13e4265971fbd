import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { TargetState } from '../domain/gates';

/** One agent a step of a rollout took. */
@Entity({ name: 'rollout_targets' })
export class RolloutTargetEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_rollout_targets' })
  rolloutId!: string;

  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_rollout_targets' })
  agentId!: string;

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

  /** The rollout's version was assigned to the agent (a rollback reaches exactly these). */
  @Column({ type: 'boolean', default: false })
  assigned!: boolean;

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
