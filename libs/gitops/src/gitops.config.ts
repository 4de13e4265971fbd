import { defineConfigSection } from '@ampora/platform';

/** GitOps' section of the configuration (AMPORA_GITOPS_*): sweeps of Git sources by the worker. Composed by the apps. */
export interface GitopsConfig {
  /** Sync runs older than this many days are pruned (30). */
  runRetentionDays: number;
  /** How often the worker prunes sync runs. */
  pruneIntervalSeconds: number;
  /** Longest a single git command may run before it is killed. */
  gitTimeoutSeconds: number;
  /** The git executable. */
  gitBinary: string;
  /** known_hosts file pinning SSH host keys (StrictHostKeyChecking=yes); unset: each source trusts the key it first meets. */
  sshKnownHostsFile?: string;
}

declare module '@ampora/platform' {
  interface AmporaConfig {
    gitops: GitopsConfig;
  }
}

export const GITOPS_CONFIG_SECTION = defineConfigSection({
  key: 'gitops',
  read: (r): GitopsConfig => ({
    runRetentionDays: r.int('AMPORA_GITOPS_RUN_RETENTION_DAYS', 30, 1, 3650),
    pruneIntervalSeconds: r.int('AMPORA_GITOPS_PRUNE_INTERVAL_SECONDS', 3600, 1, 86400),
    gitTimeoutSeconds: r.int('AMPORA_GITOPS_GIT_TIMEOUT_SECONDS', 120, 1, 3600),
    gitBinary: r.string('AMPORA_GITOPS_GIT_BINARY', 'git'),
    sshKnownHostsFile: r.string('AMPORA_GITOPS_SSH_KNOWN_HOSTS_FILE'),
  }),
});
