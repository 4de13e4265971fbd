import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { GateName, GateSettings } from '../domain/gates';
import type { RolloutState } from '../domain/rollout-state';
import type { Ordering } from '../domain/step-planner';
import type { Strategy } from '../domain/strategy';

export type RolloutKind = 'Rollout' | 'Rollback';

/** What a rollout delivers (decision 0375): a configuration version, or a package version (an agent upgrade). */
export type RolloutSubject = 'configuration' | 'package';

/** What the engine records about one step once it started. */
export interface StepRecord {
  index: number;
  agents: number;
  startedAt: string;
  settledAt: string | null;
  dwellUntil: string | null;
  /** Seconds operators added to this step's dwell. */
  extendedSeconds: number;
  last: boolean;
}

/** The last breach of a gate. */
export interface GateRecord {
  gate: GateName;
  observed: number;
  threshold: number;
  numerator: number;
  denominator: number;
  agents: string[];
  step: number;
  at: string;
  /** Analysis gates (decision 0321): see GateBreach. */
  verdict?: 'breach' | 'inconclusive';
  baseline?: number | null;
  baselineKind?: 'before' | 'control';
  sample?: number;
  minSample?: number;
  windowSeconds?: number;
}

@Entity({ name: 'rollouts' })
@Index('ix_rollouts_tenant_created', ['tenantId', 'createdAt', 'id'])
@Index('ux_rollouts_active_group', ['groupId'], { unique: true, where: `state IN ('Pending', 'InProgress', 'Paused') AND kind = 'Rollout'` })
@Index('ix_rollouts_active', ['state'], { where: `state IN ('InProgress', 'Paused')` })
@Check('ck_rollouts_state', `state IN ('Pending', 'InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack')`)
@Check('ck_rollouts_kind', `kind IN ('Rollout', 'Rollback')`)
@Check('ck_rollouts_ordering', `ordering IN ('random', 'hostname', 'last_seen')`)
@Check(
  'ck_rollouts_subject',
  `(subject = 'configuration' AND configuration_id IS NOT NULL AND version_id IS NOT NULL AND version_number IS NOT NULL AND package_version_id IS NULL)
      OR (subject = 'package' AND package_version_id IS NOT NULL AND package_name IS NOT NULL AND package_version IS NOT NULL AND configuration_id IS NULL AND version_id IS NULL)`,
)
export class RolloutEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_rollouts' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 10, default: 'Rollout' })
  kind!: RolloutKind;

  @Column({ type: 'uuid', nullable: true })
  rollbackOf!: string | null;

  @ManyToOne('RolloutEntity')
  @JoinColumn({ name: 'rollback_of', foreignKeyConstraintName: 'fk_rollouts_rollback_of' })
  rollbackOfRollout?: unknown;

  @Column({ type: 'uuid', nullable: true })
  rollbackId!: string | null;

  @Column({ type: 'varchar', length: 13, default: 'configuration' })
  subject!: RolloutSubject;

  /** A configuration rollout's configuration and version (null for a package rollout). */
  @Column({ type: 'uuid', nullable: true })
  configurationId!: string | null;

  @Column({ type: 'uuid', nullable: true })
  versionId!: string | null;

  @Column({ type: 'integer', nullable: true })
  versionNumber!: number | null;

  /** A package rollout's package version (decision 0375), its package's name and the version. */
  @Column({ type: 'uuid', nullable: true })
  packageVersionId!: string | null;

  @Column({ type: 'text', nullable: true })
  packageName!: string | null;

  @Column({ type: 'text', nullable: true })
  packageVersion!: string | null;

  @Column({ type: 'uuid' })
  groupId!: string;


  /** A fixed, ordered set of agents (rollbacks), instead of the group's members. */
  @Column({ type: 'jsonb', nullable: true })
  cohort!: string[] | null;

  @Column({ type: 'jsonb' })
  strategy!: Strategy;

  @Column({ type: 'jsonb' })
  gates!: GateSettings;

  @Column({ type: 'varchar', length: 10, default: 'random' })
  ordering!: Ordering;

  @Column({ type: 'boolean' })
  autoAdvance!: boolean;

  @Column({ type: 'integer', default: 0 })
  dwellSeconds!: number;

  @Column({ type: 'varchar', length: 10, default: 'Pending' })
  state!: RolloutState;

  @Column({ type: 'integer', nullable: true })
  currentStep!: number | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  steps!: StepRecord[];

  @Column({ type: 'jsonb', nullable: true })
  gate!: GateRecord | null;

  /** Resumed after a gate paused this step: its gates no longer judge it. */
  @Column({ type: 'integer', nullable: true })
  gatesWaivedStep!: number | null;

  /** An operator asked to advance past this step's dwell (or its manual wait). */
  @Column({ type: 'integer', nullable: true })
  advanceStep!: number | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  engineOwner!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  engineLeaseUntil!: Date | null;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  startedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  finishedAt!: Date | null;
}
