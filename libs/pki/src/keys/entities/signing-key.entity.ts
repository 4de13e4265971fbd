import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type SigningKeyState = 'Draft' | 'Active' | 'Trusted' | 'Retired';

/** A CA signing key: its self-signed certificate and where its private key is (wrapped, or in a token). */
@Entity({ name: 'pki_signing_keys' })
@Index('ux_pki_signing_keys_active', ['state'], { unique: true, where: `state = 'Active'` })
@Index('ix_pki_signing_keys_created', ['createdAt', 'id'])
@Index('ux_pki_signing_keys_key_id', ['keyId'], { unique: true })
@Check('ck_pki_signing_keys_state', `state IN ('Draft', 'Active', 'Trusted', 'Retired')`)
@Check('ck_pki_signing_keys_provider', `provider IN ('software', 'pkcs11')`)
@Check(
  'ck_pki_signing_keys_material',
  `(provider = 'software' AND wrapped_private_key IS NOT NULL AND wrapping_key_id IS NOT NULL) OR
          (provider = 'pkcs11' AND token_key_id IS NOT NULL)`,
)
export class SigningKeyEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_pki_signing_keys' })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  state!: SigningKeyState;

  @Column({ type: 'varchar', length: 16 })
  algorithm!: string;

  @Column({ type: 'varchar', length: 16 })
  provider!: string;

  @Column({ type: 'varchar', length: 200 })
  commonName!: string;

  /** DER of the self-signed CA certificate. */
  @Column({ type: 'bytea' })
  certificate!: Buffer;

  /** SHA-256 of the certificate's DER, hex. */
  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  /** SHA-1 of the public key (the subject key identifier, and OCSP's issuerKeyHash), hex. */
  @Column({ type: 'char', length: 40 })
  keyId!: string;

  /** software provider: the PKCS#8 private key sealed with AES-256-GCM under the master key. */
  @Column({ type: 'bytea', nullable: true })
  wrappedPrivateKey!: Buffer | null;

  @Column({ type: 'char', length: 16, nullable: true })
  wrappingKeyId!: string | null;

  /** pkcs11 provider: the CKA_ID (hex) of the private key inside the token. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  tokenKeyId!: string | null;

  @Column({ type: 'timestamptz', precision: 3 })
  notBefore!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  notAfter!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  activatedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  trustedUntil!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  retiredAt!: Date | null;

  @Column({ type: 'bigint', default: 0 })
  crlNumber!: string;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
