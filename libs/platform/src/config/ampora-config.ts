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

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/ampora';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Platform's own sections of the configuration (its mechanisms: storage, queues, HTTP, logging, ...). */
export interface PlatformConfig {
  app: {
    nodeEnv: 'development' | 'production' | 'test';
    production: boolean;
    instanceId: string;
    /** The externally reachable base URL of this deployment, used in printed hints and PKI URLs. */
    publicUrl: string;
  };
  http: { port: number; host: string; backlog: number };
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
  /** `tenantIsolation`: operators' API requests run under row-level security (decision 0395). */
  database: { url: string; poolMax: number; migrateOnStart: boolean; tenantIsolation: boolean; parallelWorkers: number; analyzeIntervalSeconds: number };
  redis: { url: string; keyPrefix: string };
  queue: { kind: QueueKind };
  security: { masterKey?: Buffer; previousMasterKey?: Buffer };
  logging: { level: LogLevelName };
  telemetry: { otlpEndpoint?: string; serviceName: string; metricsIntervalMs: number };
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
  /**
   * Abuse limits (issue 16 §7, decision 0290): attempts counted per source address and per tenant in
   * fixed windows, shared by every instance through Redis; over a limit the attempt is answered 429
   * with Retry-After (the end of the window). 0 turns a limit off.
   */
  abuse: {
    windowSeconds: number;
    /** Enrolments (first connections with a bootstrap token not yet redeemed, and refused bootstrap tokens) per source address. */
    enrolmentsPerIp: number;
    /** New agents enrolling in one tenant. */
    enrolmentsPerTenant: number;
    /** Refused credentials (REST bearer tokens, OpAMP bootstrap tokens and client certificates) per source address. */
    authFailuresPerIp: number;
    /** Refused credentials that belong to one tenant (a revoked or expired one). */
    authFailuresPerTenant: number;
  };
}

/**
 * The whole configuration, validated once at start-up and grouped by namespace: platform's sections
 * plus one section per lib. A lib declares its section in its own `<lib>.config.ts` — it adds the
 * section to this interface (`declare module '@ampora/platform' { interface AmporaConfig { fleet:
 * FleetConfig } }`) and exports a ConfigSection that reads it — and the apps compose the sections
 * (apps/composition: AMPORA_CONFIG_SECTIONS).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AmporaConfig extends PlatformConfig {}

/** One lib's section of the configuration: its key in AmporaConfig and how to read it from the environment. */
export interface ConfigSection<K extends Exclude<keyof AmporaConfig, keyof PlatformConfig> = Exclude<keyof AmporaConfig, keyof PlatformConfig>> {
  readonly key: K;
  /** Variables of this section whose values are never echoed, not even in a validation error. */
  readonly secrets?: readonly string[];
  /**
   * Reads and validates the section's variables through `env` (which collects every problem for one
   * ConfigValidationError); `platform` holds platform's sections, already read.
   */
  read(env: EnvReader, platform: PlatformConfig): AmporaConfig[K];
}

/** Declares a lib's configuration section (see ConfigSection). */
export function defineConfigSection<K extends Exclude<keyof AmporaConfig, keyof PlatformConfig>>(section: ConfigSection<K>): ConfigSection<K> {
  return section;
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

/** Platform's variables whose values must never be echoed, not even in a validation error (sections add theirs). */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['AMPORA_MASTER_KEY', 'AMPORA_PREVIOUS_MASTER_KEY', 'AMPORA_BOOTSTRAP_ADMIN_TOKEN', 'DATABASE_URL', 'REDIS_URL']);

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates every variable of platform and of the given sections (the apps pass every lib's:
 * apps/composition). Throws one ConfigValidationError that lists every bad variable. This (with the
 * sections it runs) is the only place in the code base that reads the environment. Without sections it
 * reads platform's alone.
 */
export function loadConfig(env?: Env): PlatformConfig;
export function loadConfig(env: Env, sections: readonly ConfigSection[]): AmporaConfig;
export function loadConfig(env: Env = process.env, sections: readonly ConfigSection[] = []): AmporaConfig {
  const r = new EnvReader(env, new Set([...SECRET_VARIABLES, ...sections.flatMap((s) => s.secrets ?? [])]));
  const platform = readPlatformSections(r);
  const config: Record<string, unknown> = { ...platform };
  for (const section of sections) {
    if (section.key in config) throw new Error(`two configuration sections are named ${section.key}`);
    config[section.key] = section.read(r, platform);
  }
  if (r.issues.length > 0) throw new ConfigValidationError(r.issues);
  return config as unknown as AmporaConfig;
}

function readPlatformSections(r: EnvReader): PlatformConfig {

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

  const queueKind = r.oneOf('AMPORA_QUEUE', QUEUE_KINDS, embedded ? 'postgres' : 'redis');
  const backplane = r.oneOf('AMPORA_BACKPLANE', BACKPLANE_KINDS, embedded ? 'inprocess' : 'redis');
  if (embedded && queueKind === 'redis' && r.isSet('AMPORA_QUEUE')) {
    r.fail('AMPORA_QUEUE', 'must be postgres in embedded storage mode', 'redis');
  }

  return {
    app: {
      nodeEnv,
      production,
      instanceId: r.string('AMPORA_INSTANCE_ID', `${hostname()}-${process.pid}`),
      publicUrl,
    },
    // the listen backlog: connections the kernel holds until the server accepts them (decision 0432)
    http: { port, host, backlog: r.int('AMPORA_HTTP_BACKLOG', 65535, 1, 65535) },
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
      tenantIsolation: r.bool('AMPORA_TENANT_RLS', true),
      // PostgreSQL's max_parallel_workers_per_gather for Ampora's connections; -1 sends none (decision 0429)
      parallelWorkers: r.int('AMPORA_DB_PARALLEL_WORKERS', 0, -1, 64),
      // how often a worker analyzes the tables that grew since PostgreSQL last did; 0 leaves it to autovacuum (decision 0447)
      analyzeIntervalSeconds: r.int('AMPORA_DB_ANALYZE_INTERVAL_SECONDS', 10, 0, 3600),
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
    abuse: {
      windowSeconds: r.int('AMPORA_LIMITS_WINDOW_SECONDS', 60, 1, 86_400),
      enrolmentsPerIp: r.int('AMPORA_LIMITS_ENROLMENTS_PER_IP', 120, 0, 10_000_000),
      enrolmentsPerTenant: r.int('AMPORA_LIMITS_ENROLMENTS_PER_TENANT', 2000, 0, 10_000_000),
      authFailuresPerIp: r.int('AMPORA_LIMITS_AUTH_FAILURES_PER_IP', 30, 0, 10_000_000),
      authFailuresPerTenant: r.int('AMPORA_LIMITS_AUTH_FAILURES_PER_TENANT', 300, 0, 10_000_000),
    },
  };
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
