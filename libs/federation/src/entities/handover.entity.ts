import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A handover token this deployment redeemed (decision 0371): its id is the token's, so a replay is refused. */
@Entity({ name: 'federation_handovers' })
export class HandoverEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_federation_handovers' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  /** The peer that handed the agent over (this side's name for it). */
  @Column({ type: 'varchar', length: 63 })
  peerName!: string;

  @Column({ type: 'varchar', length: 100 })
  sourceAgentId!: string;

  /** The agent created here; null while the redemption is in progress or when it failed. */
  @Column({ type: 'uuid', nullable: true })
  agentId!: string | null;

  @Column({ type: 'char', length: 64 })
  fingerprint!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  redeemedAt!: Date;
}
