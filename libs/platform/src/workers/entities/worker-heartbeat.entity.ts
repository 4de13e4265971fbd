import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One row per worker process that has run: when it started and when it last said it was alive. */
@Entity({ name: 'worker_heartbeats' })
export class WorkerHeartbeatEntity {
  @PrimaryColumn({ type: 'varchar', length: 200, primaryKeyConstraintName: 'pk_worker_heartbeats' })
  instanceId!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  startedAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  lastSeenAt!: Date;
}
