import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import type { StoredConfigFiles } from '../../agents/entities/agent.entity';
import type { Finding } from '../domain/collector-config';

export type VersionStatus = 'Draft' | 'Published' | 'Archived';

/**
 * The YAML of a configuration at one point, kept byte-for-byte, with its hashes and findings.
 * A database trigger refuses changes to a Published or Archived version and backward transitions.
 */
@Entity({ name: 'configuration_versions' })
@Index('ux_configuration_versions_number', ['configurationId', 'number'], { unique: true })
@Check('ck_configuration_versions_status', `status IN ('Draft', 'Published', 'Archived')`)
export class ConfigurationVersionEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_configuration_versions' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'uuid' })
  configurationId!: string;

  @ManyToOne('ConfigurationEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'configuration_id', foreignKeyConstraintName: 'fk_configuration_versions_configuration' })
  configuration?: unknown;

  @Column({ type: 'integer' })
  number!: number;

  @Column({ type: 'varchar', length: 10, default: 'Draft' })
  status!: VersionStatus;

  /** Exactly the text that was given. */
  @Column({ type: 'text' })
  yaml!: string;

  /** SHA-256 of the YAML bytes (what drift compares with an agent's effective config). */
  @Column({ type: 'char', length: 64 })
  contentHash!: string;

  /** config_hash sent to agents with this version (configMapHash of `files`). */
  @Column({ type: 'char', length: 64 })
  configHash!: string;

  /** The config map pushed to agents (base64 bodies), copied onto agent rows on assignment. */
  @Column({ type: 'jsonb' })
  files!: StoredConfigFiles;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  findings!: Finding[];

  @Column({ type: 'integer', default: 0 })
  errorCount!: number;

  @Column({ type: 'integer', default: 0 })
  warningCount!: number;

  /** Where the text came from when not the API (a Git commit, later). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  sourceRef!: string | null;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  publishedBy!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  archivedAt!: Date | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  archivedBy!: string | null;
}
