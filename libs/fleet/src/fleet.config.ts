import { defineConfigSection } from '@ampora/platform';

/** Fleet's section of the configuration (AMPORA_FLEET_*, AMPORA_AGENT_RETENTION_*): composed by the apps. */
export interface FleetConfig {
  /** How often the worker re-evaluates dynamic group membership. */
  reconcileIntervalSeconds: number;
  /** Agents per second reached by paced pushes (bulk force-push, large assignments, bulk disconnect). */
  dispatchRatePerSecond: number;
  /** Assignments reaching at most this many agents push at once; more are paced by the worker. */
  inlinePushMax: number;
  /** Agents disconnected longer than this many days are forgotten by the worker (0: never). */
  agentRetentionDays: number;
  /** How often the worker looks for agents past the retention. */
  agentRetentionIntervalSeconds: number;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    fleet: FleetConfig;
  }
}

export const FLEET_CONFIG_SECTION = defineConfigSection({
  key: 'fleet',
  read: (r): FleetConfig => ({
    reconcileIntervalSeconds: r.int('AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS', 30, 1, 3600),
    dispatchRatePerSecond: r.int('AMPORA_FLEET_DISPATCH_RATE', 100, 1, 10000),
    inlinePushMax: r.int('AMPORA_FLEET_INLINE_PUSH_MAX', 100, 0, 5000),
    agentRetentionDays: r.int('AMPORA_AGENT_RETENTION_DAYS', 0, 0, 36500),
    agentRetentionIntervalSeconds: r.int('AMPORA_AGENT_RETENTION_INTERVAL_SECONDS', 3600, 1, 86400),
  }),
});
