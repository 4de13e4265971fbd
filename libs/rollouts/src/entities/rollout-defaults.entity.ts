import { Check, Column, Entity, PrimaryColumn } from 'typeorm';
import type { GateSettings } from '../domain/gates';
import type { Ordering } from '../domain/step-planner';
import type { Strategy } from '../domain/strategy';

/** A tenant's rollout defaults; unset fields fall back to Ampora's built-in ones. */
@Entity({ name: 'rollout_defaults' })
@Check('ck_rollout_defaults_ordering', `ordering IN ('random', 'hostname', 'last_seen')`)
export class RolloutDefaultsEntity {
  @PrimaryColumn('uuid', { primaryKeyConstraintName: 'pk_rollout_defaults' })
  tenantId!: string;


  /** Normalized (every default filled in), as a rollout stores it. */
  @Column({ type: 'jsonb', nullable: true })
  strategy!: Strategy | null;

  /** Only the thresholds the tenant set. */
  @Column({ type: 'jsonb', nullable: true })
  gates!: Partial<GateSettings> | null;

  @Column({ type: 'varchar', length: 10, nullable: true })
  ordering!: Ordering | null;

  @Column({ type: 'varchar', length: 200 })
  updatedBy!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  updatedAt!: Date;
}
