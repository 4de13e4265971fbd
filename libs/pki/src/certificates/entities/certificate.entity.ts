import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

export type CertificateKind = 'agent' | 'federation';
export type KeySource = 'server' | 'csr';
export type IssueReason = 'enrolment' | 'renewal' | 'api';

/**
 * An issued leaf: the binding of a certificate (by SHA-256 fingerprint) to a tenant and an agent.
 * `agent_id` is empty for a certificate signed through the API until its first mTLS connection makes
 * it an agent (decision 0064).
 */
@Entity({ name: 'pki_certificates' })
@Index('ux_pki_certificates_fingerprint', ['fingerprint'], { unique: true })
@Index('ux_pki_certificates_key_serial', ['signingKeyId', 'serialNumber'], { unique: true })
@Index('ix_pki_certificates_agent', ['agentId', 'notAfter'], { where: 'agent_id IS NOT NULL' })
@Index('ix_pki_certificates_revoked', ['signingKeyId', 'revokedAt'], { where: 'revoked_at IS NOT NULL' })
@Index('ix_pki_certificates_tenant_created', ['tenantId', 'createdAt', 'id'])
@Index('ix_pki_certificates_open_offers', ['offeredAt'], { where: 'first_used_at IS NULL AND offer_unusable_at IS NULL AND revoked_at IS NULL' })
@Check('ck_pki_certificates_kind', `kind IN ('agent', 'federation')`)
@Check('ck_pki_certificates_key_source', `key_source IN ('server', 'csr')`)
@Check('ck_pki_certificates_reason', `reason IN ('enrolment', 'renewal', 'api')`)
export class CertificateEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_pki_certificates' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;


  @Column({ type: 'uuid', nullable: true })
  agentId!: string | null;

  @Column({ type: 'varchar', length: 16 })
  kind!: CertificateKind;

  @Column({ type: 'uuid' })
  signingKeyId!: string;

  @ManyToOne('SigningKeyEntity', { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'signing_key_id', foreignKeyConstraintName: 'fk_pki_certificates_signing_key' })
  signingKey?: unknown;

  /** Lower-case hex, as in the certificate. */
  @Column({ type: 'varchar', length: 40 })
  serialNumber!: string;

  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'varchar', length: 500 })
  subject!: string;

  @Column({ type: 'varchar', length: 8 })
  keySource!: KeySource;

  @Column({ type: 'varchar', length: 16 })
  reason!: IssueReason;

  @Column({ type: 'bytea' })
  certificate!: Buffer;

  @Column({ type: 'timestamptz', precision: 3 })
  notBefore!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  notAfter!: Date;

  /** The certificate this one renewed. */
  @Column({ type: 'uuid', nullable: true })
  replacesId!: string | null;

  /** The renewal issued for this one. */
  @Column({ type: 'uuid', nullable: true })
  replacedById!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  revocationReason!: string | null;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  /** Offered over OpAMP with a destination endpoint (decision 0121): when, where, with which trust. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  offeredAt!: Date | null;

  @Column({ type: 'varchar', length: 500, nullable: true })
  offerEndpoint!: string | null;

  /** SHA-256 (hex) over the endpoint and the CA bundle the offer carried: an unusable offer is not repeated with the same. */
  @Column({ type: 'char', length: 64, nullable: true })
  offerSettingsHash!: string | null;

  /** The first TLS connection that presented this certificate. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  firstUsedAt!: Date | null;

  /** The offer was never used within AMPORA_PKI_OFFER_TIMEOUT_SECONDS. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  offerUnusableAt!: Date | null;

  /** An operator asked for a new certificate now (decision 0380): offered like a renewal that is due. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  rotationRequestedAt!: Date | null;
}
