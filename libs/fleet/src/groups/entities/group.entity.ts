import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

export type GroupKind = 'Static' | 'Dynamic';

/**
 * A target set of agents. Static groups hold the agents operators put there; Dynamic groups hold
 * the agents their selector matches (the reconciler keeps them current). Membership itself is
 * `agents.group_id`, so an agent is in at most one group. Deleting is soft.
 */
@Entity({ name: 'groups' })
@Index('ux_groups_tenant_name', ['tenantId', 'name'], { unique: true, where: 'deleted_at IS NULL' })
@Index('ix_groups_tenant_created', ['tenantId', 'createdAt', 'id'])
@Check('ck_groups_kind', `kind IN ('Static', 'Dynamic')`)
@Check('ck_groups_selector', `(kind = 'Dynamic') = (selector IS NOT NULL)`)
export class GroupEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_groups' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  @Column({ type: 'varchar', length: 8 })
  kind!: GroupKind;

  /** The Ampora-language selector of a Dynamic group. */
  @Column({ type: 'text', nullable: true })
  selector!: string | null;

  /** Breaks ties between Dynamic groups that match the same agent: higher wins, then the older group. */
  @Column({ type: 'integer', default: 0 })
  priority!: number;

  @Column({ type: 'uuid', nullable: true })
  assignedVersionId!: string | null;

  @ManyToOne('ConfigurationVersionEntity')
  @JoinColumn({ name: 'assigned_version_id', foreignKeyConstraintName: 'fk_groups_assigned_version' })
  assignedVersion?: unknown;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  assignedAt!: Date | null;

  /** Static members released by the last delete, put back by a restore (if still ungrouped). */
  @Column({ type: 'jsonb', nullable: true })
  releasedMembers!: string[] | null;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  deletedAt!: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  deletedBy!: string | null;
}
