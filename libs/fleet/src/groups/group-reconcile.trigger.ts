import { Injectable } from '@nestjs/common';
import { createLogger, JobProducer } from '@ampora/platform';
import { FLEET_QUEUE, ReconcileGroupsJob } from '../fleet.jobs';

/** Waits this long before an on-demand reconcile, so bursts of changes share one pass. */
export const RECONCILE_DEBOUNCE_MS = 1000;
/** Requests for one tenant within this window are merged here, without asking Redis again. */
const LOCAL_WINDOW_MS = 250;

/**
 * Asks the worker for a reconcile of one tenant soon (a group's selector changed, agents described
 * themselves), besides the periodic pass. Requests while one is pending are merged.
 */
@Injectable()
export class GroupReconcileTrigger {
  private readonly log = createLogger('Ampora.Fleet.Groups.GroupReconcileTrigger');
  private readonly lastRequest = new Map<string, number>();

  constructor(private readonly producer: JobProducer) {}

  request(tenantId: string, reason: string): void {
    // host time: this window only spares Redis repeated requests (decision 0220); it decides nothing
    const now = Date.now();
    if (now - (this.lastRequest.get(tenantId) ?? 0) < LOCAL_WINDOW_MS) return;
    this.lastRequest.set(tenantId, now);
    if (this.lastRequest.size > 10_000) this.lastRequest.clear();
    const payload: ReconcileGroupsJob = { tenantId, reason };
    this.producer
      .enqueue(FLEET_QUEUE.name, FLEET_QUEUE.jobs.reconcileGroups, payload, {
        tenantId,
        delay: RECONCILE_DEBOUNCE_MS,
        deduplication: { id: `reconcile-${tenantId}` },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600 },
      })
      .catch((error: unknown) => this.log.warn('Could not request a group reconcile ({Reason}); the periodic pass will do it', { Reason: reason }, error));
  }
}
