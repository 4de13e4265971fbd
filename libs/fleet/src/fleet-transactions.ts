import { Injectable } from '@nestjs/common';
import { createLogger, RequestContext, TransactionRunner, Tx } from '@ampora/platform';

/** Attempts of a fleet transaction that PostgreSQL aborted as a deadlock victim or serialization failure. */
export const TX_ATTEMPTS = 4;

function retryable(error: unknown): boolean {
  const e = error as { code?: string; driverError?: { code?: string } };
  const code = e.driverError?.code ?? e.code;
  return code === '40P01' || code === '40001';
}

/**
 * Transactions of the fleet: they lock groups and then agents in id order, but other writers (the
 * agent state writer's batched UPDATEs) lock agent rows in any order, so PostgreSQL may pick one as
 * a deadlock victim. Such a transaction is run again from the start (its after-commit work only ran
 * if it committed).
 */
@Injectable()
export class FleetTransactions {
  private readonly log = createLogger('Ampora.Fleet.FleetTransactions');

  constructor(private readonly tx: TransactionRunner) {}

  async run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const scope = RequestContext.current();
    for (let attempt = 1; ; attempt++) {
      // audit events of an attempt that rolled back were never written
      const auditWrites = scope?.auditWrites ?? 0;
      try {
        return await this.tx.run(work);
      } catch (error) {
        if (scope) scope.auditWrites = auditWrites;
        if (!retryable(error) || attempt >= TX_ATTEMPTS) throw error;
        this.log.debug('Transaction aborted by PostgreSQL ({Attempt} of {Attempts}); running it again', { Attempt: attempt, Attempts: TX_ATTEMPTS });
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
      }
    }
  }
}
