import { Injectable } from '@nestjs/common';
import { createLogger, injectTraceContext, JobEnvelope, JobProducer } from '@ampora/platform';
import { SyncTrigger } from './entities/git-sync-run.entity';
import { GITOPS_QUEUE, SweepJob, SWEEP_SCHEDULER_PREFIX, sweepSchedulerId } from './gitops.jobs';

const SWEEP_JOB_OPTIONS = { removeOnComplete: { count: 100 }, removeOnFail: { age: 7 * 24 * 3600 } };

/**
 * The sweeps' queue side: one BullMQ job scheduler per Active source (its poll interval), and sweeps
 * on demand (webhook, sync now) de-duplicated per source: while one waits, more requests join it;
 * while one runs, one more is kept to run after it (a commit pushed mid-sweep is never missed).
 */
@Injectable()
export class SweepScheduler {
  private readonly log = createLogger('Ampora.Gitops.SweepScheduler');

  constructor(private readonly producer: JobProducer) {}

  async schedule(source: { id: string; tenantId: string; pollIntervalSeconds: number }): Promise<void> {
    const data: JobEnvelope<SweepJob> = { tenantId: source.tenantId, trace: injectTraceContext(), payload: { sourceId: source.id, trigger: 'schedule' } };
    await this.queue().upsertJobScheduler(sweepSchedulerId(source.id), { every: source.pollIntervalSeconds * 1000 }, { name: GITOPS_QUEUE.jobs.sweep, data, opts: SWEEP_JOB_OPTIONS });
  }

  async unschedule(sourceId: string): Promise<void> {
    await this.queue().removeJobScheduler(sweepSchedulerId(sourceId));
  }

  /** Enqueues a sweep now; answers the job id (the waiting one when the request joined it). */
  async requestSweep(tenantId: string, sourceId: string, trigger: SyncTrigger): Promise<string | undefined> {
    return this.producer.enqueue<SweepJob>(GITOPS_QUEUE.name, GITOPS_QUEUE.jobs.sweep, { sourceId, trigger }, {
      tenantId,
      ...SWEEP_JOB_OPTIONS,
      deduplication: { id: `gitops-sweep-${sourceId}`, keepLastIfActive: true },
    });
  }

  /** Makes the schedulers match the Active sources (worker start): adds missing ones, removes strays. */
  async reconcile(active: Array<{ id: string; tenantId: string; pollIntervalSeconds: number }>): Promise<void> {
    const wanted = new Set(active.map((s) => sweepSchedulerId(s.id)));
    for (const s of active) await this.schedule(s);
    const existing = await this.queue().getJobSchedulers(0, -1);
    for (const scheduler of existing) {
      const id = scheduler.key ?? scheduler.id;
      if (id && id.startsWith(SWEEP_SCHEDULER_PREFIX) && !wanted.has(id)) await this.queue().removeJobScheduler(id);
    }
    this.log.debug('{Count} GitOps sources are swept on their schedules', { Count: active.length });
  }

  private queue() {
    return this.producer.queue(GITOPS_QUEUE.name);
  }
}
