import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

export type SyncTrigger = 'schedule' | 'webhook' | 'manual';
/** success: every file imported or unchanged; partial: some files had errors; failed: the sweep did not finish. */
export type SyncOutcome = 'success' | 'partial' | 'failed';

export interface SyncFileError {
  path: string;
  error: string;
}

/** One sweep of a source that found work (a tip unchanged since the last sweep writes nothing). */
@Entity({ name: 'gitops_sync_runs' })
@Index('ix_gitops_sync_runs_source_started', ['sourceId', 'startedAt', 'id'])
@Index('ix_gitops_sync_runs_started', ['startedAt'])
@Check('ck_gitops_sync_runs_trigger', `trigger IN ('schedule', 'webhook', 'manual')`)
@Check('ck_gitops_sync_runs_outcome', `outcome IN ('success', 'partial', 'failed')`)
export class GitSyncRunEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_gitops_sync_runs' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'uuid' })
  sourceId!: string;

  @ManyToOne('GitSourceEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'fk_gitops_sync_runs_source' })
  source?: unknown;

  @Column({ type: 'varchar', length: 10 })
  trigger!: SyncTrigger;

  @Column({ type: 'varchar', length: 10 })
  outcome!: SyncOutcome;

  @Column({ type: 'timestamptz', precision: 3 })
  startedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  finishedAt!: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  tipSha!: string | null;

  @Column({ type: 'integer', default: 0 })
  filesSeen!: number;

  @Column({ type: 'integer', default: 0 })
  filesImported!: number;

  @Column({ type: 'integer', default: 0 })
  filesUnchanged!: number;

  @Column({ type: 'integer', default: 0 })
  filesOrphaned!: number;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  errors!: SyncFileError[];

  /** Why the sweep failed as a whole (fetch refused, branch missing, ...), without any secret. */
  @Column({ type: 'text', nullable: true })
  failure!: string | null;
}
