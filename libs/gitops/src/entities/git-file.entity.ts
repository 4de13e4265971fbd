import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

export type GitFileStatus = 'tracked' | 'orphaned';

/** A file a source imports: the blob last imported and the configuration it feeds (fleet's, by id). */
@Entity({ name: 'gitops_files' })
@Index('ix_gitops_files_tenant_name', ['tenantId', 'configurationName'])
@Check('ck_gitops_files_status', `status IN ('tracked', 'orphaned')`)
export class GitFileEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_gitops_files' })
  sourceId!: string;

  @PrimaryColumn({ type: 'varchar', length: 4096, primaryKeyConstraintName: 'pk_gitops_files' })
  path!: string;

  @ManyToOne('GitSourceEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'source_id', foreignKeyConstraintName: 'fk_gitops_files_source' })
  source?: unknown;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 64 })
  blobSha!: string;

  @Column({ type: 'uuid' })
  configurationId!: string;

  @Column({ type: 'varchar', length: 200 })
  configurationName!: string;

  /** The tip the blob was last imported at. */
  @Column({ type: 'varchar', length: 64 })
  commitSha!: string;

  @Column({ type: 'varchar', length: 8, default: 'tracked' })
  status!: GitFileStatus;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
