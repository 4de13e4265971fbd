import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';

export interface WorkerInstance {
  instanceId: string;
  startedAt: string;
  lastSeenAt: string;
  alive: boolean;
}

export interface WorkerStatus {
  /** True when at least one worker recorded a heartbeat within three heartbeat intervals. */
  alive: boolean;
  /** Alive workers. */
  count: number;
  /** The most recent heartbeat of any worker, or null when none was ever recorded. */
  lastSeenAt: string | null;
  instances: WorkerInstance[];
}

/** The warning carried by answers whose work waits for a worker while none is alive. */
export const NO_WORKER_WARNING = 'no_worker';

/**
 * What servers know about the workers: the heartbeats they record in PostgreSQL (see
 * WorkerHeartbeat). A worker counts as alive for three heartbeat intervals after its last one.
 * Answers are cached for a second so readiness probes and busy APIs cost one query per second.
 */
@Injectable()
export class WorkerPresence {
  private cached?: { at: number; status: Promise<WorkerStatus> };

  constructor(
    private readonly dataSource: DataSource,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  status(): Promise<WorkerStatus> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < 1000) return this.cached.status;
    const status = this.read();
    this.cached = { at: now, status };
    status.catch(() => (this.cached = undefined));
    return status;
  }

  /** True when a worker is alive (false also when the database cannot say). */
  async alive(): Promise<boolean> {
    try {
      return (await this.status()).alive;
    } catch {
      return false;
    }
  }

  private async read(): Promise<WorkerStatus> {
    const window = this.config.worker.heartbeatSeconds * 3;
    const rows = (await this.dataSource.query(
      `SELECT instance_id, started_at, last_seen_at, last_seen_at > now() - make_interval(secs => $1) AS alive
       FROM worker_heartbeats ORDER BY last_seen_at DESC LIMIT 100`,
      [window],
    )) as Array<{ instance_id: string; started_at: Date; last_seen_at: Date; alive: boolean }>;
    const instances = rows.map((r) => ({ instanceId: r.instance_id, startedAt: new Date(r.started_at).toISOString(), lastSeenAt: new Date(r.last_seen_at).toISOString(), alive: r.alive }));
    const alive = instances.filter((i) => i.alive);
    return { alive: alive.length > 0, count: alive.length, lastSeenAt: instances[0]?.lastSeenAt ?? null, instances };
  }
}
