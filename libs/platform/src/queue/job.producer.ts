import { Injectable } from '@nestjs/common';
import { JobsOptions, Queue } from 'bullmq';
import { RequestContext } from '../context/request-context';
import { injectTraceContext } from '../telemetry/tracing';
import { JobEnvelope } from './job-envelope';
import { JobRegistry } from './job-registry';

export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  // failed jobs stay visible for a week
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * Enqueues jobs with the tenant and W3C trace context of the caller. Call it after the transaction
 * that produced the work has committed (Tx.afterCommit).
 */
@Injectable()
export class JobProducer {
  constructor(private readonly registry: JobRegistry) {}

  async enqueue<T>(queue: string, job: string, payload: T, options: JobsOptions & { tenantId?: string } = {}): Promise<string | undefined> {
    if (!this.registry.isDeclared(queue, job)) throw new Error(`job ${job} is not declared on queue ${queue}`);
    const { tenantId, ...jobOptions } = options;
    const envelope: JobEnvelope<T> = { tenantId: tenantId ?? RequestContext.tenantId(), trace: injectTraceContext(), payload };
    const added = await this.queue(queue).add(job, envelope, { ...DEFAULT_JOB_OPTIONS, ...jobOptions });
    return added.id;
  }

  /** A queue registered by some module's QueueModule.forFeature (see JobRegistry.bindQueue). */
  queue(name: string): Queue {
    return this.registry.queue(name);
  }
}
