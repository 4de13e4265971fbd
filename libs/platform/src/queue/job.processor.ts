import { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { RequestContext } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { DomainException } from '../errors/domain.exception';
import { createLogger } from '../logging/logger';
import { Metrics } from '../telemetry/catalogue';
import { extractTraceContext, SpanKind, withSpan } from '../telemetry/tracing';
import { JobEnvelope } from './job-envelope';
import { JobHandler, JobRegistry, QueueDefinition } from './job-registry';

type HandlerMap<D extends QueueDefinition> = { [K in D['jobs'][keyof D['jobs']]]: (payload: any, job: Job) => Promise<unknown> };

/**
 * Base of every queue processor: thin handlers keyed by job name. Each job runs inside its
 * producer's trace and tenant; domain errors that cannot succeed on retry (4xx-like) fail the job
 * at once, anything else is retried with backoff and ends in BullMQ's visible failed set.
 */
export abstract class JobProcessor<D extends QueueDefinition> extends WorkerHost implements OnModuleInit, BeforeApplicationShutdown {
  protected readonly log = createLogger(`Ampora.Queue.${this.constructor.name}`);

  protected constructor(
    private readonly registry: JobRegistry,
    private readonly definition: D,
  ) {
    super();
  }

  protected abstract handlers(): HandlerMap<D>;

  /**
   * Graceful shutdown: takes no new jobs and waits for the running ones, while the database and Redis
   * are still open (Nest's BullMQ module closes its workers only in the shutdown hooks, alongside the
   * database). Closing again later is a no-op.
   */
  async beforeApplicationShutdown(): Promise<void> {
    let worker: { close(): Promise<void> } | undefined;
    try {
      worker = this.worker;
    } catch {
      return; // never started
    }
    await worker.close();
  }

  /** True while BullMQ's worker for this queue exists and runs (false before it starts and once closed). */
  private consuming(): boolean {
    try {
      return this.worker.isRunning() && !this.worker.isPaused() && !this.worker.closing;
    } catch {
      return false; // not created yet
    }
  }

  onModuleInit(): void {
    this.registry.declare(this.definition);
    this.registry.trackConsumer(this.definition.name, () => this.consuming());
    const map = this.handlers() as Record<string, (payload: unknown, job: Job) => Promise<unknown>>;
    for (const [name, fn] of Object.entries(map)) {
      const handler: JobHandler = (job) => fn((job as Job<JobEnvelope>).data.payload, job as Job);
      this.registry.handle(name, handler);
    }
  }

  async process(job: Job<JobEnvelope>): Promise<unknown> {
    const handler = this.registry.handlerFor(job.name);
    if (!handler) throw new UnrecoverableError(`no single handler for job ${job.name}`);
    const envelope = job.data ?? ({ trace: {}, payload: undefined } as JobEnvelope);
    return RequestContext.run({ tenantId: envelope.tenantId }, () =>
      withSpan(
        `queue.process ${job.name}`,
        { kind: SpanKind.CONSUMER, parent: extractTraceContext(envelope.trace), attributes: { 'messaging.system': 'bullmq', 'messaging.destination.name': this.definition.name, 'messaging.operation.name': job.name, 'messaging.message.id': job.id ?? '' } },
        async () => {
          try {
            const result = await handler(job);
            Metrics.add('ampora_queue_jobs_total', 1, { queue: this.definition.name, job: job.name, outcome: 'completed' });
            return result;
          } catch (error) {
            Metrics.add('ampora_queue_jobs_total', 1, { queue: this.definition.name, job: job.name, outcome: 'failed' });
            if (error instanceof DomainException && error.status < 500) throw new UnrecoverableError(`${error.code}: ${error.message}`);
            throw error;
          }
        },
      ),
    );
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, error: Error): void {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
    const props = { Job: job.name, JobId: job.id, Attempt: job.attemptsMade, Tenant: TenantLabels.of((job.data as JobEnvelope)?.tenantId) };
    if (final) this.log.error('Job {Job} {JobId} failed for good after attempt {Attempt}', props, error);
    else this.log.warn('Job {Job} {JobId} failed on attempt {Attempt}; it will be retried', props, error);
  }
}
