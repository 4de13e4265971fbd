import { Job, Worker } from 'bullmq';
import { JobProducer } from '@ampora/platform';
import { FLEET_QUEUE } from '@ampora/fleet';
import { eventually } from '@ampora/testing';
import { GroupReconcileTrigger, RECONCILE_DEBOUNCE_MS } from '../src/groups/group-reconcile.trigger';
import { FleetKit, startFleetKit } from './fleet-test-kit';

/**
 * The on-demand reconcile against real Redis and BullMQ (decision 0393): requests while a pass waits
 * share it; a request while a pass runs is not lost but gets one more pass after it.
 */
describe('group reconcile trigger', () => {
  let kit: FleetKit;
  let worker: Worker | undefined;
  beforeAll(async () => {
    kit = await startFleetKit();
  });
  afterAll(async () => {
    await worker?.close();
    await kit.close();
  });

  it('merges requests while a pass waits, and runs one more pass for a request made while one runs', async () => {
    const trigger = kit.app.get(GroupReconcileTrigger);
    const queue = kit.app.get(JobProducer).queue(FLEET_QUEUE.name);
    const passes: Array<{ reason: string }> = [];
    let release!: () => void;
    const firstHeld = new Promise<void>((resolve) => (release = resolve));
    let running = false;
    worker = new Worker(
      queue.name,
      async (job: Job) => {
        if (job.name !== FLEET_QUEUE.jobs.reconcileGroups) return;
        running = true;
        passes.push({ reason: (job.data as { payload: { reason: string } }).payload.reason });
        if (passes.length === 1) await firstHeld;
        running = false;
      },
      { connection: queue.opts.connection, prefix: queue.opts.prefix },
    );

    trigger.request(kit.tenantId, 'first');
    // past the local window, just before the debounced pass starts
    await new Promise((r) => setTimeout(r, RECONCILE_DEBOUNCE_MS - 150));
    trigger.request(kit.tenantId, 'merged into the waiting pass');
    await eventually(async () => running, RECONCILE_DEBOUNCE_MS * 10, 10);
    expect(passes).toHaveLength(1);

    // the running pass may have read the agents before this change: it must not be dropped, not by
    // BullMQ's deduplication and not by the local window the previous request opened
    trigger.request(kit.tenantId, 'while running');
    await new Promise((r) => setTimeout(r, 400));
    release();
    await eventually(async () => passes.length === 2 && !running, RECONCILE_DEBOUNCE_MS * 10, 50);
    expect(passes[1]!.reason).toBe('while running');
    // and nothing more: the waiting requests were merged, not queued one by one
    await new Promise((r) => setTimeout(r, RECONCILE_DEBOUNCE_MS + 500));
    expect(passes).toHaveLength(2);
  });
});
