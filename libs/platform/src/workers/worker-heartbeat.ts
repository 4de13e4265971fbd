import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { createLogger } from '../logging/logger';

/**
 * Runs in every worker (and in the embedded server, which runs the worker's jobs): records in
 * PostgreSQL, every AMPORA_WORKER_HEARTBEAT_SECONDS, that this worker is alive, so servers can tell
 * whether queued work will be picked up. Database time, so the clocks of the hosts do not matter.
 * A worker that stops cleanly removes its row; a crashed one simply stops being seen.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly log = createLogger('Ampora.Platform.Workers.WorkerHeartbeat');
  private timer?: NodeJS.Timeout;
  private failing = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.beat(true);
    this.timer = setInterval(() => void this.beat(false), this.config.worker.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  /** Before the database closes: this worker no longer takes jobs. */
  async beforeApplicationShutdown(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    try {
      await this.dataSource.query('DELETE FROM worker_heartbeats WHERE instance_id = $1', [this.config.app.instanceId]);
    } catch (error) {
      this.log.debug('Could not remove the heartbeat of worker {InstanceId}: {Error}', { InstanceId: this.config.app.instanceId, Error: String(error) });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
  }

  private async beat(starting: boolean): Promise<void> {
    try {
      await this.dataSource.query(
        `INSERT INTO worker_heartbeats (instance_id, started_at, last_seen_at) VALUES ($1, now(), now())
         ON CONFLICT (instance_id) DO UPDATE SET last_seen_at = now()${starting ? ', started_at = now()' : ''}`,
        [this.config.app.instanceId],
      );
      // forget workers gone for a day, so the status route lists only recent ones
      if (starting) await this.dataSource.query(`DELETE FROM worker_heartbeats WHERE last_seen_at < now() - interval '1 day'`);
      if (this.failing) this.log.info('Worker heartbeat recorded again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.log.warn('Could not record the worker heartbeat', {}, error);
      this.failing = true;
    }
  }
}
