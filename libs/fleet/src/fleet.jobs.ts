import { defineQueue } from '@ampora/platform';

/** The fleet's background work (the worker's FleetProcessor answers every job). */
export const FLEET_QUEUE = defineQueue('fleet', {
  reconcileGroups: 'fleet.reconcile-groups',
  dispatch: 'fleet.dispatch',
  forgetDeparted: 'fleet.forget-departed',
});

/** The periodic reconcile (a BullMQ job scheduler registered by the worker). */
export const RECONCILE_SCHEDULER_ID = 'fleet-reconcile-groups';

/** The retention sweep (a job scheduler registered by the worker while AMPORA_AGENT_RETENTION_DAYS > 0). */
export const RETENTION_SCHEDULER_ID = 'fleet-agent-retention';

/** Re-evaluate dynamic group membership: one tenant (on demand) or every tenant (the schedule). */
export interface ReconcileGroupsJob {
  tenantId?: string;
  reason?: string;
}

export type DispatchAction = 'push' | 'force-push' | 'disconnect';

/** One paced slice of a bulk push or disconnect (at most the per-second rate of agents). */
export interface DispatchJob {
  action: DispatchAction;
  agentIds: string[];
  reason: string;
}
