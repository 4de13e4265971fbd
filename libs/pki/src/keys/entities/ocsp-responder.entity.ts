import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

/** The delegated OCSP signing certificate of one CA key (90 days, id-kp-OCSPSigning). */
@Entity({ name: 'pki_ocsp_responders' })
@Index('ix_pki_ocsp_responders_key_not_after', ['signingKeyId', 'notAfter'])
export class OcspResponderEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_pki_ocsp_responders' })
  id!: string;

  @Column({ type: 'uuid' })
  signingKeyId!: string;

  @ManyToOne('SigningKeyEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'signing_key_id', foreignKeyConstraintName: 'fk_pki_ocsp_responders_signing_key' })
  signingKey?: unknown;

  @Column({ type: 'bytea' })
  certificate!: Buffer;

  /** SHA-1 of the responder's public key (its ResponderID byKey), hex. */
  @Column({ type: 'char', length: 40 })
  keyId!: string;

  @Column({ type: 'bytea', nullable: true })
  wrappedPrivateKey!: Buffer | null;

  @Column({ type: 'char', length: 16, nullable: true })
  wrappingKeyId!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  tokenKeyId!: string | null;

  @Column({ type: 'timestamptz', precision: 3 })
  notBefore!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  notAfter!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;
}
