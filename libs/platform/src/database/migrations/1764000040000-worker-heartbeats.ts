import { MigrationInterface, QueryRunner } from 'typeorm';

/** Workers record that they are alive here, so servers can tell whether anyone runs the queued work. */
export class WorkerHeartbeats1764000040000 implements MigrationInterface {
  name = 'WorkerHeartbeats1764000040000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE worker_heartbeats (
        instance_id varchar(200) NOT NULL,
        started_at timestamptz(3) NOT NULL DEFAULT now(),
        last_seen_at timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT pk_worker_heartbeats PRIMARY KEY (instance_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE worker_heartbeats`);
  }
}
