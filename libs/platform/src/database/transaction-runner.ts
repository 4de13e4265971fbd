import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { createLogger } from '../logging/logger';
import { TENANT_ISOLATION_ROLE, TENANT_SETTING } from './tenant-isolation';

const log = createLogger('Ampora.Platform.Database.TransactionRunner');

/** A running transaction: its manager, and a place to queue work that must wait for the commit. */
export interface Tx {
  readonly manager: EntityManager;
  /** Runs after a successful commit (enqueue jobs, publish events, push to agents). */
  afterCommit(fn: () => unknown | Promise<unknown>): void;
}

export { TENANT_ISOLATION_ROLE, TENANT_SETTING };

/** Runs units of work in one transaction and defers side effects until the commit succeeded. */
@Injectable()
export class TransactionRunner {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction(undefined, work);
  }

  /**
   * A transaction that sees one tenant's rows only (decision 0366): it runs as the non-owner role
   * `ampora_app` with `ampora.tenant_id` set for this transaction only (`SET LOCAL`), so every table
   * with a `tenant_isolation` policy answers and accepts that tenant's rows alone, whatever filter a
   * query forgets. A null tenant sees no such rows at all (fail closed).
   */
  runForTenant<T>(tenantId: string | null, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.transaction({ tenantId }, work);
  }

  private async transaction<T>(scope: { tenantId: string | null } | undefined, work: (tx: Tx) => Promise<T>): Promise<T> {
    const deferred: Array<() => unknown | Promise<unknown>> = [];
    const result = await this.dataSource.transaction(async (manager) => {
      if (scope) {
        await manager.query(`SET LOCAL ROLE ${TENANT_ISOLATION_ROLE}`);
        await manager.query(`SELECT set_config('${TENANT_SETTING}', $1, true)`, [scope.tenantId ?? '']);
      }
      return work({ manager, afterCommit: (fn) => void deferred.push(fn) });
    });
    for (const fn of deferred) {
      try {
        await fn();
      } catch (error) {
        log.error('After-commit action failed', {}, error);
      }
    }
    return result;
  }
}
