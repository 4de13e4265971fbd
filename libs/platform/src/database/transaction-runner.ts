import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { createLogger } from '../logging/logger';

const log = createLogger('Ampora.Platform.Database.TransactionRunner');

/** A running transaction: its manager, and a place to queue work that must wait for the commit. */
export interface Tx {
  readonly manager: EntityManager;
  /** Runs after a successful commit (enqueue jobs, publish events, push to agents). */
  afterCommit(fn: () => unknown | Promise<unknown>): void;
}

/** Runs units of work in one transaction and defers side effects until the commit succeeded. */
@Injectable()
export class TransactionRunner {
  constructor(private readonly dataSource: DataSource) {}

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const deferred: Array<() => unknown | Promise<unknown>> = [];
    const result = await this.dataSource.transaction((manager) =>
      work({ manager, afterCommit: (fn) => void deferred.push(fn) }),
    );
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
