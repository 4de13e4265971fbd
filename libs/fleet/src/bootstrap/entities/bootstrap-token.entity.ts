import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'bootstrap_tokens' })
@Index('ux_bootstrap_tokens_token_hash', ['tokenHash'], { unique: true })
@Index('ix_bootstrap_tokens_tenant_created', ['tenantId', 'createdAt', 'id'])
export class BootstrapTokenEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_bootstrap_tokens' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 200 })
  label!: string;

  @Column({ type: 'char', length: 64 })
  tokenHash!: string;

  @Column({ type: 'uuid', nullable: true })
  groupId!: string | null;

  @ManyToOne('GroupEntity', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'fk_bootstrap_tokens_group' })
  group?: unknown;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels!: Record<string, string>;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  redeemedAt!: Date | null;

  @Column({ type: 'uuid', nullable: true })
  agentId!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;
}
