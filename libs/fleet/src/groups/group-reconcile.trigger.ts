import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { createLogger, JobProducer } from '@ampora/platform';
import { FLEET_QUEUE, ReconcileGroupsJob } from '../fleet.jobs';

/** Waits this long before an on-demand reconcile, so bursts of changes share one pass. */
export const RECONCILE_DEBOUNCE_MS = 1000;
/** Requests for one tenant within this window are merged here, without asking Redis again. */
const LOCAL_WINDOW_MS = 250;

/**
 * Asks the worker for a reconcile of one tenant soon (a group's selector changed, agents described
 * themselves), besides the periodic pass. Requests while one is pending are merged; a request while
 * one is running gets one more pass after it.
 */
@Injectable()
export class GroupReconcileTrigger implements OnModuleDestroy {
  private readonly log = createLogger('Ampora.Fleet.Groups.GroupReconcileTrigger');
  private readonly lastRequest = new Map<string, number>();
  /** Requests made inside a tenant's window, sent once at its end (the pass the window's first request joined may already be running). */
  private readonly trailing = new Map<string, NodeJS.Timeout>();

  constructor(private readonly producer: JobProducer) {}

  onModuleDestroy(): void {
    for (const t of this.trailing.values()) clearTimeout(t);
    this.trailing.clear();
  }

  request(tenantId: string, reason: string): void {
    // host time: this window only spares Redis repeated requests (decision 0220); it decides nothing
    const now = Date.now();
    const since = now - (this.lastRequest.get(tenantId) ?? 0);
    if (since < LOCAL_WINDOW_MS) {
      // never dropped: one request goes at the window's end (decision 0393)
      if (!this.trailing.has(tenantId)) {
        const timer = setTimeout(() => {
          this.trailing.delete(tenantId);
          this.request(tenantId, reason);
        }, LOCAL_WINDOW_MS - since);
        timer.unref();
        this.trailing.set(tenantId, timer);
      }
      return;
    }
    this.lastRequest.set(tenantId, now);
    if (this.lastRequest.size > 10_000) this.lastRequest.clear();
    const payload: ReconcileGroupsJob = { tenantId, reason };
    this.producer
      .enqueue(FLEET_QUEUE.name, FLEET_QUEUE.jobs.reconcileGroups, payload, {
        tenantId,
        delay: RECONCILE_DEBOUNCE_MS,
        // a request while a pass is running is kept for one more pass after it: that pass may have
        // read the agents before this change committed (decision 0393)
        deduplication: { id: `reconcile-${tenantId}`, keepLastIfActive: true },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      })
      .catch((error: unknown) => this.log.warn('Could not request a group reconcile ({Reason}); the periodic pass will do it', { Reason: reason }, error));
  }
}
