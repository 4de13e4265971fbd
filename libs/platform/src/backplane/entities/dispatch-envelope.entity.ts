import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A backplane message too large for a PostgreSQL NOTIFY payload (postgres backplane only): the
 * notification carries its id. Direct messages are deleted when read; the rest are swept after ten
 * minutes. The payload is sealed with the master key when one is configured.
 */
@Entity({ name: 'dispatch_envelopes' })
@Index('ix_dispatch_envelopes_created', ['createdAt'])
export class DispatchEnvelopeEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_dispatch_envelopes' })
  id!: string;

  @Column({ type: 'varchar', length: 63 })
  channel!: string;

  @Column({ type: 'text' })
  payload!: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
