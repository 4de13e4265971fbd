import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SourceEditKind = 'Create' | 'Update';

/**
 * A source's creation or edit waiting for an approval (decision 0403): what carrying it out needs and
 * the approval request must not show — the definition and, sealed for the source's id, the new
 * credential. One per source (asked again while pending, it is replaced); gone once decided.
 */
@Entity({ name: 'gitops_source_edits' })
@Index('ix_gitops_source_edits_tenant', ['tenantId'])
@Check('ck_gitops_source_edits_kind', `kind IN ('Create', 'Update')`)
export class GitSourceEditEntity {
  /** The source edited, or the id the source being created will have. */
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_gitops_source_edits' })
  sourceId!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 8 })
  kind!: SourceEditKind;

  /** The create or update body without its credential. */
  @Column({ type: 'jsonb' })
  input!: Record<string, unknown>;

  /** SecretBox-sealed new credential (context `gitops_sources:<sourceId>`), null when the edit brings none. */
  @Column({ type: 'bytea', nullable: true })
  credentialSealed!: Buffer | null;

  @Column({ type: 'varchar', length: 200 })
  requestedBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
