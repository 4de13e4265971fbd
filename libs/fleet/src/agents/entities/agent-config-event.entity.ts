import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';

/** What happened to an agent's remote config: Ampora pushed a hash, or the agent reported a status for one. */
export type AgentConfigEventKind = 'PUSHED' | 'APPLYING' | 'APPLIED' | 'FAILED' | 'UNSET';

/** One entry of an agent's remote-config history (newest kept, decision 0111). */
@Entity({ name: 'agent_config_events' })
@Index('ix_agent_config_events_agent', ['agentId', 'at', 'id'])
@Check('ck_agent_config_events_kind', `kind IN ('PUSHED', 'APPLYING', 'APPLIED', 'FAILED', 'UNSET')`)
export class AgentConfigEventEntity {
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'pk_agent_config_events' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'uuid' })
  agentId!: string;

  @ManyToOne('AgentEntity', { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'agent_id', foreignKeyConstraintName: 'fk_agent_config_events_agent' })
  agent?: unknown;

  @Column({ type: 'timestamptz', precision: 3 })
  at!: Date;

  @Column({ type: 'varchar', length: 10 })
  kind!: AgentConfigEventKind;

  @Column({ type: 'varchar', length: 128 })
  configHash!: string;

  @Column({ type: 'text', nullable: true })
  message!: string | null;
}
