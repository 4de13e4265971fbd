import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Coordination, FederatedRolloutState, Leg } from '../domain/federated-rollout';

/**
 * A federated rollout (decision 0370): one Published version (by configuration name and content
 * hash, never the content) rolled out by several deployments at once, each a leg run there by its own
 * rollout. The legs are what the coordinator last saw of each (jsonb, one small array).
 */
@Entity({ name: 'federated_rollouts' })
@Index('ix_federated_rollouts_tenant_created', ['tenantId', 'createdAt'])
@Check('ck_federated_rollouts_state', `state IN ('InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack')`)
@Check('ck_federated_rollouts_coordination', `coordination IN ('Independent', 'Synchronized')`)
export class FederatedRolloutEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_federated_rollouts' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'varchar', length: 200 })
  configurationName!: string;

  @Column({ type: 'int' })
  versionNumber!: number;

  @Column({ type: 'char', length: 64 })
  contentHash!: string;

  @Column({ type: 'varchar', length: 20 })
  coordination!: Coordination;

  /** What every leg is created with: strategy, gates, ordering, autoAdvance, dwellSeconds (as the rollouts API takes them). */
  @Column({ type: 'jsonb' })
  plan!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 20 })
  state!: FederatedRolloutState;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  @Column({ type: 'jsonb' })
  legs!: Leg[];

  @Column({ type: 'varchar', length: 200 })
  createdBy!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @Column({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  finishedAt!: Date | null;
}
