import { defineConfigSection } from '@ampora/platform';

/** Federation's section of the configuration (AMPORA_FEDERATION_*): the peer listener and the outbound client. Composed by the apps. */
export interface FederationConfig {
  /** Port of the mutually authenticated listener peers call (unset: no listener; 0: any free port). */
  port?: number;
  host: string;
  /** A peer call's whole budget, retries included (a dead peer costs at most this). */
  timeoutMs: number;
  /** Further attempts of an idempotent call after a connection failure or a 5xx, inside the budget. */
  retries: number;
  /** Back-off before the first retry (doubled for each next one). */
  retryBackoffMs: number;
  /** A call slower than this marks the peer `slow` in the federated fleet view. */
  slowMs: number;
  /** Consecutive failures that open a peer's circuit. */
  breakerFailures: number;
  /** How long an open circuit refuses calls before one probe. */
  breakerOpenSeconds: number;
  /** How often the coordinator of a federated rollout looks at its legs (decision 0370). */
  rolloutTickMs: number;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    federation: FederationConfig;
  }
}

export const FEDERATION_CONFIG_SECTION = defineConfigSection({
  key: 'federation',
  read: (r): FederationConfig => {
    const port = r.string('AMPORA_FEDERATION_PORT');
    return {
      port: port === undefined ? undefined : r.int('AMPORA_FEDERATION_PORT', 0, 0, 65535),
      host: r.string('AMPORA_FEDERATION_HOST', '0.0.0.0'),
      timeoutMs: r.int('AMPORA_FEDERATION_TIMEOUT_MS', 3000, 50, 120_000),
      retries: r.int('AMPORA_FEDERATION_RETRIES', 2, 0, 10),
      retryBackoffMs: r.int('AMPORA_FEDERATION_RETRY_BACKOFF_MS', 100, 0, 10_000),
      slowMs: r.int('AMPORA_FEDERATION_SLOW_MS', 1000, 1, 120_000),
      breakerFailures: r.int('AMPORA_FEDERATION_BREAKER_FAILURES', 5, 1, 1000),
      breakerOpenSeconds: r.int('AMPORA_FEDERATION_BREAKER_OPEN_SECONDS', 30, 1, 3600),
      rolloutTickMs: r.int('AMPORA_FEDERATION_ROLLOUT_TICK_MS', 2000, 100, 600_000),
    };
  },
});
