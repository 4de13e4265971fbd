import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A certificate another deployment's CA issued to an agent handed over to this one (decision 0371):
 * trusted for that leaf only (by fingerprint, its signature checked against the issuing CA the
 * handover carried), never for anything else that CA signed.
 */
@Entity({ name: 'pki_adopted_certificates' })
@Index('ux_pki_adopted_certificates_fingerprint', ['fingerprint'], { unique: true })
export class AdoptedCertificateEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_pki_adopted_certificates' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'uuid' })
  agentId!: string;

  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'text' })
  certificatePem!: string;

  @Column({ type: 'text' })
  issuerCaPem!: string;

  /** Where it came from (the peer's name). */
  @Column({ type: 'varchar', length: 200 })
  source!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  notBefore!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  notAfter!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
