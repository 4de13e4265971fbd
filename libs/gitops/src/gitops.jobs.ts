import { defineQueue } from '@ampora/platform';
import type { SyncTrigger } from './entities/git-sync-run.entity';

/** GitOps' background work (the worker's GitopsProcessor answers every job). */
export const GITOPS_QUEUE = defineQueue('gitops-sync', {
  sweep: 'gitops-sync.sweep',
  pruneRuns: 'gitops-sync.prune-runs',
});

/** The job scheduler of an Active source (one per source; removed when it is paused or deleted). */
export function sweepSchedulerId(sourceId: string): string {
  return `gitops-source-${sourceId}`;
}

/** Prefix of every source's scheduler id (the worker reconciles them at start). */
export const SWEEP_SCHEDULER_PREFIX = 'gitops-source-';

/** The daily-ish pruning of old sync runs (AMPORA_GITOPS_PRUNE_INTERVAL_SECONDS). */
export const PRUNE_SCHEDULER_ID = 'gitops-prune-runs';

export interface SweepJob {
  sourceId: string;
  trigger: SyncTrigger;
}
