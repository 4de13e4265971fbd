import type { DomainEvent } from '@ampora/platform';
import type { SourceStatus } from './entities/git-source.entity';
import type { SyncOutcome, SyncTrigger } from './entities/git-sync-run.entity';

/** Every event GitOps publishes on the live-update bus. */
export const GitopsEvents = {
  SourceChanged: 'gitops.source_changed',
  SourceDeleted: 'gitops.source_deleted',
  SyncCompleted: 'gitops.sync_completed',
} as const;

export type GitopsSourceChange = 'created' | 'updated' | 'paused' | 'resumed' | 'webhook_token';

export type GitopsEvent =
  | DomainEvent<typeof GitopsEvents.SourceChanged, { sourceId: string; name: string; change: GitopsSourceChange; status: SourceStatus }>
  | DomainEvent<typeof GitopsEvents.SourceDeleted, { sourceId: string; name: string }>
  | DomainEvent<
      typeof GitopsEvents.SyncCompleted,
      { sourceId: string; runId: string; trigger: SyncTrigger; outcome: SyncOutcome; tipSha: string | null; imported: number; unchanged: number; orphaned: number; errors: number }
    >;
