import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

/** A config file as stored: base64 body so the bytes survive exactly. */
export interface StoredConfigFile {
  contentType: string;
  body: string;
}
export type StoredConfigFiles = Record<string, StoredConfigFile>;

/** Where an agent's assigned config comes from: set on it directly, by a rollout, or through its group. */
export type AssignmentSource = 'direct' | 'rollout' | 'group';

@Entity({ name: 'agents' })
@Index('ux_agents_tenant_instance_uid', ['tenantId', 'instanceUid'], { unique: true })
@Index('ux_agents_cert_fingerprint', ['certFingerprint'], { unique: true, where: 'cert_fingerprint IS NOT NULL' })
@Index('ix_agents_tenant_created', ['tenantId', 'createdAt', 'id'])
@Index('ix_agents_labels', { synchronize: false })
@Index('ix_agents_tags', { synchronize: false })
@Index('ix_agents_disconnected', ['disconnectedAt'], { where: 'connected = false' })
@Index('ix_agents_group', ['groupId'])
@Index('ix_agents_assigned_version', ['assignedVersionId'], { where: 'assigned_version_id IS NOT NULL' })
@Check('ck_agents_identity_kind', `identity_kind IN ('token', 'certificate')`)
@Check('ck_agents_assignment_source', `assignment_source IN ('direct', 'group', 'rollout')`)
export class AgentEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_agents' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'uuid' })
  instanceUid!: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  displayName!: string;

  @Column({ type: 'varchar', length: 255, default: '' })
  agentType!: string;

  @Column({ type: 'varchar', length: 100, default: '' })
  agentVersion!: string;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  identifyingAttributes!: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  nonIdentifyingAttributes!: Record<string, unknown>;

  /**
   * Operator tags: Ampora-side labels, seeded from the bootstrap token and edited with
   * `PATCH /api/agents/{id}`; not part of the agent description (selectors see them as `tag.*`).
   */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  tags!: Record<string, string>;

  /** Everything selectors and label filters see: description attributes and tags, merged. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  labels!: Record<string, unknown>;

  @Column({ type: 'bigint', default: 0 })
  capabilities!: string;

  @Column({ type: 'boolean', nullable: true })
  healthy!: boolean | null;

  @Column({ type: 'jsonb', nullable: true })
  health!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  effectiveConfig!: StoredConfigFiles | null;

  @Column({ type: 'char', length: 64, nullable: true })
  effectiveConfigHash!: string | null;

  /** The effective config exceeds the configuration limits: stored, never parsed (drift unknown; decision 0131). */
  @Column({ type: 'boolean', default: false })
  effectiveConfigTooLarge!: boolean;

  @Column({ type: 'varchar', length: 16, nullable: true })
  remoteConfigStatus!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  remoteConfigHash!: string | null;

  @Column({ type: 'text', nullable: true })
  remoteConfigError!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  failedConfigHash!: string | null;

  /** When the agent last reported a remote config status (what the status columns say). */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  remoteConfigAt!: Date | null;

  /** The last config the agent reported FAILED for; kept after later APPLIED statuses of other hashes. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  lastFailureHash!: string | null;

  @Column({ type: 'text', nullable: true })
  lastFailureMessage!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  lastFailureAt!: Date | null;

  @Column({ type: 'jsonb', nullable: true })
  assignedConfig!: StoredConfigFiles | null;

  /** The last push a push-time check denied (cleared when a later push is allowed; decision 0275). */
  @Column({ type: 'jsonb', nullable: true })
  pushDenial!: StoredPushDenial | null;

  @Column({ type: 'char', length: 64, nullable: true })
  assignedConfigHash!: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  assignedContentHash!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  assignedAt!: Date | null;

  /** The configuration version the assigned config is (null for a raw `{ yaml }` assignment). */
  @Column({ type: 'uuid', nullable: true })
  assignedVersionId!: string | null;

  @ManyToOne('ConfigurationVersionEntity')
  @JoinColumn({ name: 'assigned_version_id', foreignKeyConstraintName: 'fk_agents_assigned_version' })
  assignedVersion?: unknown;

  @Column({ type: 'varchar', length: 8, nullable: true })
  assignmentSource!: AssignmentSource | null;

  @Column({ type: 'jsonb', nullable: true })
  packageStatuses!: unknown;

  /** Packages assigned to this agent: name → version id, version, content hash, type (decision 0331; written by the packages service). */
  @Column({ type: 'jsonb', nullable: true })
  assignedPackages!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  availableComponents!: unknown;

  @Column({ type: 'jsonb', nullable: true })
  customCapabilities!: string[] | null;

  @Column({ type: 'jsonb', nullable: true })
  connectionSettingsStatus!: unknown;

  @Column({ type: 'varchar', length: 16 })
  identityKind!: 'token' | 'certificate';

  @Column({ type: 'uuid', nullable: true })
  bootstrapTokenId!: string | null;

  @Column({ type: 'char', length: 64, nullable: true })
  certFingerprint!: string | null;

  /** The agent's one group (the single-group invariant is this column). */
  @Column({ type: 'uuid', nullable: true })
  groupId!: string | null;

  @ManyToOne('GroupEntity', { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'fk_agents_group' })
  group?: unknown;

  /** Placed by an operator or a bootstrap token: dynamic selectors never move a pinned agent. */
  @Column({ type: 'boolean', default: false })
  groupPinned!: boolean;

  @Column({ type: 'boolean', default: false })
  connected!: boolean;

  @Column({ type: 'varchar', length: 8, nullable: true })
  transport!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  ownerInstance!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  lastSeenAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  connectedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  disconnectedAt!: Date | null;

  /** Handed over to this peer (decision 0371): the agent lives there now and is refused here. */
  @Column({ type: 'varchar', length: 63, nullable: true })
  movedToPeer!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  movedAt!: Date | null;

  /** Handed over from this peer, where it was agent `originAgentId` (its history is there). */
  @Column({ type: 'varchar', length: 63, nullable: true })
  originPeer!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  originAgentId!: string | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}

/** What `push_denial` holds. */
export interface StoredPushDenial {
  check: string;
  policyId: string;
  policyName: string;
  reason: string;
  path: string;
  versionId: string | null;
  rolloutId: string | null;
  at: string;
}
