import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** First key of GitOps' PostgreSQL advisory locks ("gitops" in ASCII, shortened to fit an int4). */
const GITOPS_LOCK_CLASS = 0x67697470;

/**
 * One sweep of a source at a time across every worker: a session-level PostgreSQL advisory lock on
 * a connection of its own, held for the whole sweep. A second sweep of the source waits for it; a
 * worker that dies loses its connection and with it the lock.
 */
@Injectable()
export class SweepLock {
  constructor(private readonly dataSource: DataSource) {}

  async whileHeld<T>(sourceId: string, work: () => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock($1, hashtext($2))`, [GITOPS_LOCK_CLASS, sourceId]);
      try {
        return await work();
      } finally {
        await runner.query(`SELECT pg_advisory_unlock($1, hashtext($2))`, [GITOPS_LOCK_CLASS, sourceId]);
      }
    } finally {
      await runner.release();
    }
  }
}
