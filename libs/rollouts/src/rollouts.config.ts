import { defineConfigSection } from '@ampora/platform';

/** Rollouts' section of the configuration (AMPORA_ROLLOUT_*): composed by the apps. */
export interface RolloutsConfig {
  /** How often the worker's tick job looks at each active rollout (dwell timers, timed gates, missed events). */
  tickMs: number;
  /** How long a worker owns a rollout it is driving before another may take over. */
  leaseSeconds: number;
  /** Agents of a step per chunk: one assignment transaction, pushed together (one envelope per owning instance; decision 0390). */
  pushConcurrency: number;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    rollouts: RolloutsConfig;
  }
}

export const ROLLOUTS_CONFIG_SECTION = defineConfigSection({
  key: 'rollouts',
  read: (r): RolloutsConfig => ({
    tickMs: r.int('AMPORA_ROLLOUT_TICK_MS', 2000, 50, 600000),
    leaseSeconds: r.int('AMPORA_ROLLOUT_LEASE_SECONDS', 30, 1, 3600),
    pushConcurrency: r.int('AMPORA_ROLLOUT_PUSH_CONCURRENCY', 500, 1, 5000),
  }),
});
