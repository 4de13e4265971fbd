import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { GroupAssignment } from '../domain/group-assignment';

export type CredentialKind = 'None' | 'Pat' | 'SshKey';
export type SourceStatus = 'Active' | 'Paused';

/** A Git repository whose tracked files become configurations. The credential is sealed, never read back. */
@Entity({ name: 'gitops_sources' })
@Index('ux_gitops_sources_tenant_name', ['tenantId', 'name'], { unique: true })
@Index('ix_gitops_sources_tenant_created', ['tenantId', 'createdAt', 'id'])
@Check('ck_gitops_sources_credential_kind', `credential_kind IN ('None', 'Pat', 'SshKey')`)
@Check('ck_gitops_sources_status', `status IN ('Active', 'Paused')`)
@Check('ck_gitops_sources_poll', `poll_interval_seconds BETWEEN 15 AND 3600`)
export class GitSourceEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_gitops_sources' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 2000 })
  repositoryUrl!: string;

  @Column({ type: 'varchar', length: 250 })
  branch!: string;

  @Column({ type: 'varchar', length: 500 })
  pathGlob!: string;

  @Column({ type: 'varchar', length: 8 })
  credentialKind!: CredentialKind;

  /** SecretBox-sealed credential (context `gitops_sources:<id>`), null for kind None. */
  @Column({ type: 'bytea', nullable: true })
  credentialSealed!: Buffer | null;

  @Column({ type: 'integer' })
  pollIntervalSeconds!: number;

  @Column({ type: 'varchar', length: 8, default: 'Active' })
  status!: SourceStatus;

  @Column({ type: 'varchar', length: 64, nullable: true })
  lastSyncedSha!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  lastSyncedAt!: Date | null;

  /** SHA-256 (hex) of the webhook token; the token itself is shown once. */
  @Column({ type: 'char', length: 64, nullable: true })
  webhookTokenHash!: string | null;

  /** Publish each imported version without Error findings (and roll it out to its path's group). */
  @Column({ type: 'boolean', default: false })
  autoPublish!: boolean;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  groupAssignments!: GroupAssignment[];

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
