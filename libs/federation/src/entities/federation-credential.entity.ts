import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * This deployment's federation identity (decision 0310): a federation certificate PKI issued (same id
 * as its pki_certificates row) and its private key, sealed with the master key (context
 * `federation_credentials:<id>`). The newest in-date one is presented to peers, both ways.
 */
@Entity({ name: 'federation_credentials' })
@Index('ix_federation_credentials_not_after', ['notAfter'])
export class FederationCredentialEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_federation_credentials' })
  id!: string;

  /** The tenant of the Admin who issued it. */
  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 500 })
  subject!: string;

  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'varchar', length: 40 })
  serialNumber!: string;

  @Column({ type: 'text' })
  certificatePem!: string;

  @Column({ type: 'bytea' })
  privateKeySealed!: Buffer;

  @Column({ type: 'timestamptz', precision: 3 })
  notBefore!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  notAfter!: Date;

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
