import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Which instance holds an agent's live session: a lease renewed while the session lives, with a
 * fencing token (from the sequence `agent_session_fencing_seq`) that grows whenever the lease changes
 * hands. A row is deleted when its session ends; a crashed instance's rows expire and are taken over.
 */
@Entity({ name: 'agent_session_ownership' })
@Index('ix_agent_session_ownership_instance', ['instanceId'])
export class AgentSessionOwnershipEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'pk_agent_session_ownership' })
  agentId!: string;

  @Column({ type: 'varchar', length: 200 })
  instanceId!: string;

  @Column({ type: 'bigint' })
  fencingToken!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  leaseExpiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  acquiredAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  renewedAt!: Date;
}
