import { hostname } from 'node:os';
import { EnvIssue, EnvReader } from './env-reader';

export const LOG_LEVELS = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export const STORAGE_MODES = ['postgres', 'embedded'] as const;
export type StorageMode = (typeof STORAGE_MODES)[number];
export const QUEUE_KINDS = ['redis', 'postgres'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];
export const BACKPLANE_KINDS = ['redis', 'postgres', 'inprocess'] as const;
export type BackplaneKind = (typeof BACKPLANE_KINDS)[number];
export const SIGNING_PROVIDERS = ['software', 'pkcs11'] as const;
export type SigningProviderKind = (typeof SIGNING_PROVIDERS)[number];
export const CA_KEY_ALGORITHMS = ['RSA-3072', 'ECDSA-P256'] as const;
export type CaKeyAlgorithm = (typeof CA_KEY_ALGORITHMS)[number];

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ampora';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The whole configuration, validated once at start-up and grouped by namespace. */
export interface AmporaConfig {
  app: {
    nodeEnv: 'development' | 'production' | 'test';
    production: boolean;
    instanceId: string;
    /** The externally reachable base URL of this deployment, used in printed hints and PKI URLs. */
    publicUrl: string;
  };
  http: { port: number; host: string };
  shutdown: {
    /** After a stop signal: readiness answers 503 and new OpAMP sessions are refused this long before anything closes. */
    drainSeconds: number;
    /** Then the rest of the shutdown (sessions, in-flight requests and jobs, the last writes) may take this long. */
    timeoutSeconds: number;
    /**
     * Shut down like on SIGTERM when the parent process goes away: set when npm runs the process
     * (npm may die of a supervisor's SIGTERM without passing it on) or AMPORA_STOP_WITH_PARENT is true.
     */
    withParent: boolean;
  };
  worker: {
    /** The worker's own HTTP port (/health/live, /health/ready, /metrics); 0 turns it off. */
    httpPort: number;
    /** How often a worker records that it is alive; servers count a worker alive for three of these. */
    heartbeatSeconds: number;
  };
  storage: { mode: StorageMode; dataDir: string };
  database: { url: string; poolMax: number; migrateOnStart: boolean };
  redis: { url: string; keyPrefix: string };
  queue: { kind: QueueKind };
  security: { masterKey?: Buffer; previousMasterKey?: Buffer };
  logging: { level: LogLevelName };
  telemetry: { otlpEndpoint?: string; serviceName: string; metricsIntervalMs: number };
  auth: {
    bootstrapAdminToken?: string;
    oidc: {
      issuer?: string;
      audience?: string;
      jwksUrl?: string;
      roleClaim: string;
      tenantClaim: string;
      clockToleranceSeconds: number;
    };
  };
  opamp: {
    path: string;
    maxMessageBytes: number;
    heartbeatWindowSeconds: number;
    heartbeatIntervalSeconds: number;
    flushIntervalMs: number;
    /** How long an HTTP agent's session is trusted before its credential is bound to the agent again. */
    httpRecheckSeconds: number;
    tlsPort?: number;
    tlsCertFile?: string;
    tlsKeyFile?: string;
    requireMtls: boolean;
    /**
     * With requireMtls: whether an agent that accepts connection settings and has used its certificate
     * may come back with its bootstrap token for a new one (the OpAMP Supervisor forgets offered
     * settings when it restarts). Off: such an agent must connect with mTLS, like any other (decision 0121).
     */
    tokenReissue: boolean;
    /**
     * The OpAMP URL of the mTLS listener as agents reach it: sent as `destination_endpoint` with every
     * certificate offered, so agents that apply connection settings move there. Unset: agents keep
     * the endpoint they use (the operator points them at the TLS port).
     */
    mtlsUrl?: string;
    /**
     * PEM certificates that verify the TLS listener's own certificate (the operator's CA): sent with
     * every certificate offer so agents that verify the server only against the offer's `ca_cert`
     * (the OpAMP Supervisor) trust the listener they are sent to (decision 0120).
     */
    tlsCaFile?: string;
    /** Names (DNS or IP) the server certificate Ampora issues for its TLS listener is valid for. */
    tlsHostnames: string[];
    /** First delay of a refused credential and source; doubled per refusal (0: off). */
    refusalBackoffSeconds: number;
    refusalBackoffMaxSeconds: number;
  };
  dispatch: {
    backplane: BackplaneKind;
    ownershipTtlSeconds: number;
    /** How long a forwarded push waits for the owning instance's answer. */
    forwardTimeoutMs: number;
  };
  /** The live-update bus and its Server-Sent Events stream (`GET /api/live`). */
  live: {
    /** Events queued per SSE subscriber before the oldest are dropped. */
    subscriberBuffer: number;
    /** Events kept per tenant for `Last-Event-ID` resumption, and for how long. */
    replayEvents: number;
    replaySeconds: number;
  };
  fleet: {
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
  };
  /** Audit retention (issue 17): the worker's `audit-archival` sweep. */
  audit: {
    /** How often the sweep runs (AMPORA_AUDIT_SWEEP_MINUTES). */
    sweepMinutes: number;
    /** Rows older than this many days move from `audit_events` to `audit_event_archive`. */
    hotDays: number;
    /** Archive rows older than this many days are purged. */
    archiveDays: number;
    /** Rows moved or purged per transaction. */
    batchSize: number;
  };
  rollouts: {
    /** How often the worker's tick job looks at each active rollout (dwell timers, timed gates, missed events). */
    tickMs: number;
    /** How long a worker owns a rollout it is driving before another may take over. */
    leaseSeconds: number;
    /** Pushes of a step in flight at once. */
    pushConcurrency: number;
  };
  /**
   * Bounds on every untrusted text Ampora parses (decision 0130): JSON request bodies and the YAML of
   * configuration versions, raw assignments and agents' effective configs. Checked by linear scans
   * before any parse.
   */
  limits: {
    /** Largest JSON request body, in bytes (413 PAYLOAD_TOO_LARGE). */
    bodyMaxBytes: number;
    /** Deepest nesting of objects and arrays in a JSON body (400 JSON_TOO_DEEP). */
    jsonMaxDepth: number;
    /** Most object members plus array elements in a JSON body (400 JSON_TOO_MANY_KEYS). */
    jsonMaxKeys: number;
    /** Largest collector configuration (YAML), in UTF-8 bytes. */
    configMaxBytes: number;
    /** Deepest nesting of block and flow collections in a configuration. */
    configMaxDepth: number;
    /** Most keys, values and list items (nodes) in a configuration. */
    configMaxNodes: number;
    /** Most alias references (`*name`) in a configuration. */
    configMaxAliases: number;
    /** Most nodes a configuration may have once its aliases are expanded. */
    configMaxAliasExpansion: number;
    /** Most lexical tokens (the work measure of one parse: nodes, indicators, comments, line breaks). */
    configMaxTokens: number;
    /** Time one parse (or diff) may take in the parsing worker thread before it is refused and the worker replaced. */
    configParseTimeoutMs: number;
    /** Heap of the parsing worker thread, in MiB (a parse that needs more is refused). */
    configParseMaxHeapMb: number;
  };
  pki: {
    provider: SigningProviderKind;
    caCommonName: string;
    caKeyAlgorithm: CaKeyAlgorithm;
    crlUrl: string;
    ocspUrl: string;
    renewalThresholdDays: number;
    trustedWindowDays: number;
    /** How long an agent has to reach the mTLS listener with an offered certificate before the offer counts as unusable. */
    offerTimeoutSeconds: number;
    pkcs11: { library?: string; slot: number; pin?: string; tokenLabel?: string };
  };
}

export class ConfigValidationError extends Error {
  constructor(readonly issues: EnvIssue[]) {
    super(
      `Invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n` +
        issues.map((i) => `  - ${i.variable} ${i.problem}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

/** Variables whose values must never be echoed, not even in a validation error. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'AMPORA_MASTER_KEY',
  'AMPORA_PREVIOUS_MASTER_KEY',
  'AMPORA_BOOTSTRAP_ADMIN_TOKEN',
  'AMPORA_PKI_PKCS11_PIN',
  'DATABASE_URL',
  'REDIS_URL',
]);

/**
 * Reads and validates every variable Ampora understands. Throws one ConfigValidationError that lists
 * every bad variable. This is the only place in the code base that reads the environment.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): AmporaConfig {
  const r = new EnvReader(env, SECRET_VARIABLES);

  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const port = r.int('AMPORA_HTTP_PORT', 4320, 0, 65535);
  const host = r.string('AMPORA_HTTP_HOST', '0.0.0.0');
  const publicUrl = r.url('AMPORA_PUBLIC_URL', ['http', 'https'], `http://localhost:${port}`).replace(/\/+$/, '');

  const databaseUrlSet = r.isSet('DATABASE_URL');
  const storageMode = r.oneOf('AMPORA_STORAGE', STORAGE_MODES, databaseUrlSet ? 'postgres' : defaultStorageMode());
  const databaseUrl = r.url('DATABASE_URL', ['postgres', 'postgresql'], DEFAULT_DATABASE_URL);
  const redisUrl = r.url('REDIS_URL', ['redis', 'rediss'], DEFAULT_REDIS_URL);
  const embedded = storageMode === 'embedded';

  const masterKey = r.base64Key('AMPORA_MASTER_KEY', 32);
  if (production && !r.isSet('AMPORA_MASTER_KEY')) r.require('AMPORA_MASTER_KEY', 'when NODE_ENV=production');
  const previousMasterKey = r.base64Key('AMPORA_PREVIOUS_MASTER_KEY', 32);

  const bootstrapAdminToken = r.string('AMPORA_BOOTSTRAP_ADMIN_TOKEN');
  if (bootstrapAdminToken !== undefined && !/^amp-pat\.[A-Z2-7]+\.[A-Z2-7]+$/.test(bootstrapAdminToken)) {
    r.fail('AMPORA_BOOTSTRAP_ADMIN_TOKEN', 'expected a personal access token of the form amp-pat.<secret>.<check>');
  }

  const oidcIssuer = r.url('AMPORA_OIDC_ISSUER', ['http', 'https']);
  const oidcAudience = r.string('AMPORA_OIDC_AUDIENCE');
  if (oidcIssuer && !oidcAudience) r.require('AMPORA_OIDC_AUDIENCE', 'when AMPORA_OIDC_ISSUER is set');

  const tlsPort = r.optionalInt('AMPORA_OPAMP_TLS_PORT', 0, 65535);
  const tlsCertFile = r.string('AMPORA_OPAMP_TLS_CERT_FILE');
  const tlsKeyFile = r.string('AMPORA_OPAMP_TLS_KEY_FILE');
  // neither file: Ampora issues the listener's certificate from its own CA (decision 0120)
  if (tlsPort !== undefined && Boolean(tlsCertFile) !== Boolean(tlsKeyFile)) {
    if (!tlsCertFile) r.require('AMPORA_OPAMP_TLS_CERT_FILE', 'when AMPORA_OPAMP_TLS_KEY_FILE is set');
    if (!tlsKeyFile) r.require('AMPORA_OPAMP_TLS_KEY_FILE', 'when AMPORA_OPAMP_TLS_CERT_FILE is set');
  }
  const mtlsUrl = r.url('AMPORA_OPAMP_MTLS_URL', ['wss', 'https']);
  const tlsHostnames = (r.string('AMPORA_OPAMP_TLS_HOSTNAMES') ?? [new URL(publicUrl).hostname, mtlsUrl ? new URL(mtlsUrl).hostname : '', 'localhost', '127.0.0.1', hostname()].join(','))
    .split(',')
    .map((h) => h.trim().replace(/^\[|\]$/g, ''))
    .filter((h, i, all) => h.length > 0 && all.indexOf(h) === i);

  const queueKind = r.oneOf('AMPORA_QUEUE', QUEUE_KINDS, embedded ? 'postgres' : 'redis');
  const backplane = r.oneOf('AMPORA_BACKPLANE', BACKPLANE_KINDS, embedded ? 'inprocess' : 'redis');
  if (embedded && queueKind === 'redis' && r.isSet('AMPORA_QUEUE')) {
    r.fail('AMPORA_QUEUE', 'must be postgres in embedded storage mode', 'redis');
  }

  const provider = r.oneOf('AMPORA_PKI_PROVIDER', SIGNING_PROVIDERS, 'software');
  const pkcs11Library = r.string('AMPORA_PKI_PKCS11_LIBRARY');
  const pkcs11Pin = r.string('AMPORA_PKI_PKCS11_PIN');
  if (provider === 'pkcs11') {
    if (!pkcs11Library) r.require('AMPORA_PKI_PKCS11_LIBRARY', 'when AMPORA_PKI_PROVIDER=pkcs11');
    if (!pkcs11Pin) r.require('AMPORA_PKI_PKCS11_PIN', 'when AMPORA_PKI_PROVIDER=pkcs11');
  }

  const config: AmporaConfig = {
    app: {
      nodeEnv,
      production,
      instanceId: r.string('AMPORA_INSTANCE_ID', `${hostname()}-${process.pid}`),
      publicUrl,
    },
    http: { port, host },
    shutdown: {
      drainSeconds: r.int('AMPORA_SHUTDOWN_DRAIN_SECONDS', 5, 0, 300),
      timeoutSeconds: r.int('AMPORA_SHUTDOWN_TIMEOUT_SECONDS', 20, 1, 600),
      withParent: r.bool('AMPORA_STOP_WITH_PARENT', r.raw('npm_lifecycle_event') !== undefined),
    },
    worker: {
      httpPort: r.int('AMPORA_WORKER_HTTP_PORT', 4322, 0, 65535),
      heartbeatSeconds: r.int('AMPORA_WORKER_HEARTBEAT_SECONDS', 10, 1, 3600),
    },
    storage: { mode: storageMode, dataDir: r.string('AMPORA_DATA_DIR', './.ampora') },
    database: {
      url: databaseUrl,
      poolMax: r.int('AMPORA_DB_POOL_MAX', 10, 1, 500),
      migrateOnStart: r.bool('AMPORA_AUTO_MIGRATE', true),
    },
    redis: { url: redisUrl, keyPrefix: r.string('AMPORA_REDIS_PREFIX', 'ampora') },
    queue: { kind: queueKind },
    security: { masterKey, previousMasterKey },
    logging: { level: parseLogLevel(r) },
    telemetry: {
      otlpEndpoint: r.url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http', 'https']),
      serviceName: r.string('OTEL_SERVICE_NAME', 'ampora'),
      metricsIntervalMs: r.int('AMPORA_OTLP_METRICS_INTERVAL_MS', 15000, 1000, 3600000),
    },
    auth: {
      bootstrapAdminToken,
      oidc: {
        issuer: oidcIssuer,
        audience: oidcAudience,
        jwksUrl: r.url('AMPORA_OIDC_JWKS_URL', ['http', 'https']),
        roleClaim: r.string('AMPORA_OIDC_ROLE_CLAIM', 'ampora:role'),
        tenantClaim: r.string('AMPORA_OIDC_TENANT_CLAIM', 'tenant'),
        clockToleranceSeconds: r.int('AMPORA_OIDC_CLOCK_TOLERANCE_SECONDS', 300, 0, 3600),
      },
    },
    opamp: {
      path: '/v1/opamp',
      maxMessageBytes: r.int('AMPORA_OPAMP_MAX_MESSAGE_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
      heartbeatWindowSeconds: r.int('AMPORA_OPAMP_HEARTBEAT_WINDOW_SECONDS', 90, 1, 86400),
      heartbeatIntervalSeconds: r.int('AMPORA_OPAMP_HEARTBEAT_INTERVAL_SECONDS', 30, 1, 86400),
      flushIntervalMs: r.int('AMPORA_OPAMP_FLUSH_INTERVAL_MS', 1000, 10, 3_600_000),
      httpRecheckSeconds: r.int('AMPORA_OPAMP_HTTP_RECHECK_SECONDS', 60, 1, 86400),
      tlsPort,
      tlsCertFile,
      tlsKeyFile,
      requireMtls: r.bool('AMPORA_OPAMP_REQUIRE_MTLS', production),
      tokenReissue: r.bool('AMPORA_OPAMP_TOKEN_REISSUE', true),
      mtlsUrl,
      tlsCaFile: r.string('AMPORA_OPAMP_TLS_CA_FILE'),
      tlsHostnames,
      refusalBackoffSeconds: r.int('AMPORA_OPAMP_REFUSAL_BACKOFF_SECONDS', 5, 0, 3600),
      refusalBackoffMaxSeconds: r.int('AMPORA_OPAMP_REFUSAL_BACKOFF_MAX_SECONDS', 300, 1, 86400),
    },
    dispatch: {
      backplane,
      ownershipTtlSeconds: r.int('AMPORA_DISPATCH_OWNERSHIP_TTL_SECONDS', 60, 2, 3600),
      forwardTimeoutMs: r.int('AMPORA_DISPATCH_FORWARD_TIMEOUT_MS', 5000, 50, 120000),
    },
    live: {
      subscriberBuffer: r.int('AMPORA_LIVE_SUBSCRIBER_BUFFER', 1000, 1, 1000000),
      replayEvents: r.int('AMPORA_LIVE_REPLAY_EVENTS', 1000, 0, 1000000),
      replaySeconds: r.int('AMPORA_LIVE_REPLAY_SECONDS', 300, 0, 86400),
    },
    fleet: {
      reconcileIntervalSeconds: r.int('AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS', 30, 1, 3600),
      dispatchRatePerSecond: r.int('AMPORA_FLEET_DISPATCH_RATE', 100, 1, 10000),
      inlinePushMax: r.int('AMPORA_FLEET_INLINE_PUSH_MAX', 100, 0, 5000),
      agentRetentionDays: r.int('AMPORA_AGENT_RETENTION_DAYS', 0, 0, 36500),
      agentRetentionIntervalSeconds: r.int('AMPORA_AGENT_RETENTION_INTERVAL_SECONDS', 3600, 1, 86400),
    },
    audit: {
      sweepMinutes: r.int('AMPORA_AUDIT_SWEEP_MINUTES', 60, 1, 10080),
      hotDays: r.int('AMPORA_AUDIT_HOT_DAYS', 90, 1, 36500),
      archiveDays: r.int('AMPORA_AUDIT_ARCHIVE_DAYS', 2555, 1, 36500),
      batchSize: r.int('AMPORA_AUDIT_BATCH_SIZE', 1000, 1, 100000),
    },
    rollouts: {
      tickMs: r.int('AMPORA_ROLLOUT_TICK_MS', 2000, 50, 600000),
      leaseSeconds: r.int('AMPORA_ROLLOUT_LEASE_SECONDS', 30, 1, 3600),
      pushConcurrency: r.int('AMPORA_ROLLOUT_PUSH_CONCURRENCY', 64, 1, 5000),
    },
    limits: {
      bodyMaxBytes: r.int('AMPORA_HTTP_MAX_BODY_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
      jsonMaxDepth: r.int('AMPORA_HTTP_MAX_JSON_DEPTH', 64, 4, 10_000),
      jsonMaxKeys: r.int('AMPORA_HTTP_MAX_JSON_KEYS', 20_000, 16, 10_000_000),
      configMaxBytes: r.int('AMPORA_CONFIG_MAX_BYTES', 512 * 1024, 1024, 256 * 1024 * 1024),
      configMaxDepth: r.int('AMPORA_CONFIG_MAX_DEPTH', 64, 4, 10_000),
      configMaxNodes: r.int('AMPORA_CONFIG_MAX_NODES', 25_000, 16, 10_000_000),
      configMaxAliases: r.int('AMPORA_CONFIG_MAX_ALIASES', 200, 0, 1_000_000),
      configMaxAliasExpansion: r.int('AMPORA_CONFIG_MAX_ALIAS_EXPANSION', 100_000, 16, 100_000_000),
      configMaxTokens: r.int('AMPORA_CONFIG_MAX_TOKENS', 100_000, 64, 100_000_000),
      configParseTimeoutMs: r.int('AMPORA_CONFIG_PARSE_TIMEOUT_MS', 10_000, 100, 600_000),
      configParseMaxHeapMb: r.int('AMPORA_CONFIG_PARSE_MAX_HEAP_MB', 256, 32, 16_384),
    },
    pki: {
      provider,
      caCommonName: r.string('AMPORA_PKI_CA_COMMON_NAME', 'Ampora CA'),
      caKeyAlgorithm: r.oneOf('AMPORA_PKI_CA_KEY_ALGORITHM', CA_KEY_ALGORITHMS, 'RSA-3072'),
      crlUrl: r.url('AMPORA_PKI_CRL_URL', ['http', 'https'], `${publicUrl}/pki/crl.der`),
      ocspUrl: r.url('AMPORA_PKI_OCSP_URL', ['http', 'https'], `${publicUrl}/pki/ocsp`),
      renewalThresholdDays: r.int('AMPORA_PKI_RENEWAL_THRESHOLD_DAYS', 30, 0, 3650),
      trustedWindowDays: r.int('AMPORA_PKI_TRUSTED_WINDOW_DAYS', 30, 0, 3650),
      offerTimeoutSeconds: r.int('AMPORA_PKI_OFFER_TIMEOUT_SECONDS', 120, 5, 86400),
      pkcs11: {
        library: pkcs11Library,
        slot: r.int('AMPORA_PKI_PKCS11_SLOT', 0, 0, 1 << 30),
        pin: pkcs11Pin,
        tokenLabel: r.string('AMPORA_PKI_PKCS11_TOKEN_LABEL'),
      },
    },
  };

  if (r.issues.length > 0) throw new ConfigValidationError(r.issues);
  return config;
}

function parseLogLevel(r: EnvReader): LogLevelName {
  const aliases: Record<string, LogLevelName> = {
    trace: 'Trace',
    debug: 'Debug',
    information: 'Information',
    info: 'Information',
    warning: 'Warning',
    warn: 'Warning',
    error: 'Error',
    critical: 'Critical',
    fatal: 'Critical',
  };
  const raw = r.raw('LOG_LEVEL');
  if (raw === undefined) return 'Information';
  const level = aliases[raw.toLowerCase()];
  if (!level) {
    r.fail('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`, raw);
    return 'Information';
  }
  return level;
}

/** Without DATABASE_URL, Ampora runs on its embedded database (nothing to install). */
function defaultStorageMode(): StorageMode {
  return 'embedded';
}
