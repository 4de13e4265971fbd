import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';

/** The last CRL signed for a CA key, served as stored bytes. */
@Entity({ name: 'pki_crls' })
export class CrlEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_pki_crls' })
  signingKeyId!: string;

  @ManyToOne('SigningKeyEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'signing_key_id', foreignKeyConstraintName: 'fk_pki_crls_signing_key' })
  signingKey?: unknown;

  @Column({ type: 'bigint' })
  crlNumber!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  thisUpdate!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  nextUpdate!: Date;

  @Column({ type: 'integer' })
  entries!: number;

  @Column({ type: 'bytea' })
  der!: Buffer;
}
