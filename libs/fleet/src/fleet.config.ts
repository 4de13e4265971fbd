import { defineConfigSection, EnvReader } from '@ampora/platform';
import { OWN_TELEMETRY_SECRETS, OwnTelemetryConfig, readOwnTelemetryConfig } from './own-telemetry/own-telemetry.config';
import { ed25519PublicKey } from './packages/domain/packages';

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
  /** Agents' own telemetry: the OTLP intake, its rollups and the offers (AMPORA_AGENT_TELEMETRY_*). */
  ownTelemetry: OwnTelemetryConfig;
  /** Packages and agent upgrades (issue 20 item 4, decisions 0331–0333). */
  packages: PackagesConfig;
}

export interface PackagesConfig {
  /** ed25519 public keys (base64 raw or PEM) whose signatures an uploaded package must carry; empty: not checked at upload. */
  trustedKeys: string[];
  /** Refuse an upload without a signature (default true). */
  requireSignature: boolean;
  /** How long a download URL offered to an agent stays valid. */
  urlTtlSeconds: number;
  /** The largest package accepted. */
  maxBytes: number;
  /** How often (at most) an agent's frames look for a new packages offer. */
  recheckSeconds: number;
  /** Where agents download packages: the public URL of the API port (download URLs are `<this>/v1/packages/<sha256>?…`). */
  downloadBaseUrl: string;
  /** Where package files are kept (AMPORA_PACKAGES_STORE, decision 0377). */
  store: { kind: 'file' } | S3StoreConfig;
}

/** An S3-compatible bucket as the package store (AMPORA_PACKAGES_S3_*). */
export interface S3StoreConfig {
  kind: 's3';
  bucket: string;
  /** Another S3-compatible service (MinIO, Ceph, R2...); AWS when unset. */
  endpoint?: string;
  region: string;
  /** Unset: the AWS SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Path-style URLs (`<endpoint>/<bucket>/<key>`), which most S3-compatible services need. */
  forcePathStyle: boolean;
  /** Keys start with this (`<prefix>/sha256/<aa>/<sha256>`). */
  prefix: string;
}

/** The package store's variables that are secrets (never shown, in an error or anywhere). */
export const PACKAGE_STORE_SECRETS = ['AMPORA_PACKAGES_S3_ACCESS_KEY_ID', 'AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY', 'AMPORA_PACKAGES_S3_SESSION_TOKEN'];

declare module '@ampora/platform' {
  interface AmporaConfig {
    fleet: FleetConfig;
  }
}

export const FLEET_CONFIG_SECTION = defineConfigSection({
  key: 'fleet',
  secrets: [...OWN_TELEMETRY_SECRETS, ...PACKAGE_STORE_SECRETS],
  read: (r, platform): FleetConfig => ({
    reconcileIntervalSeconds: r.int('AMPORA_FLEET_RECONCILE_INTERVAL_SECONDS', 30, 1, 3600),
    dispatchRatePerSecond: r.int('AMPORA_FLEET_DISPATCH_RATE', 100, 1, 10000),
    inlinePushMax: r.int('AMPORA_FLEET_INLINE_PUSH_MAX', 100, 0, 5000),
    agentRetentionDays: r.int('AMPORA_AGENT_RETENTION_DAYS', 0, 0, 36500),
    agentRetentionIntervalSeconds: r.int('AMPORA_AGENT_RETENTION_INTERVAL_SECONDS', 3600, 1, 86400),
    ownTelemetry: readOwnTelemetryConfig(r, platform),
    packages: {
      trustedKeys: trustedKeys(r.string('AMPORA_PACKAGES_TRUSTED_KEYS', ''), (problem) => r.fail('AMPORA_PACKAGES_TRUSTED_KEYS', problem)),
      requireSignature: r.bool('AMPORA_PACKAGES_REQUIRE_SIGNATURE', true),
      urlTtlSeconds: r.int('AMPORA_PACKAGES_URL_TTL_SECONDS', 900, 10, 86400),
      maxBytes: r.int('AMPORA_PACKAGES_MAX_BYTES', 512 * 1024 * 1024, 1, 8 * 1024 * 1024 * 1024),
      recheckSeconds: r.int('AMPORA_PACKAGES_RECHECK_SECONDS', 30, 1, 3600),
      downloadBaseUrl: (r.url('AMPORA_PACKAGES_DOWNLOAD_BASE_URL', ['http', 'https']) ?? platform.app.publicUrl).replace(/\/+$/, ''),
      store: packageStore(r),
    },
  }),
});

function packageStore(r: EnvReader): PackagesConfig['store'] {
  const kind = r.string('AMPORA_PACKAGES_STORE', 'file');
  if (kind !== 'file' && kind !== 's3') {
    r.fail('AMPORA_PACKAGES_STORE', 'must be file or s3', kind);
    return { kind: 'file' };
  }
  if (kind === 'file') return { kind: 'file' };
  r.require('AMPORA_PACKAGES_S3_BUCKET', 'when AMPORA_PACKAGES_STORE=s3');
  const accessKeyId = r.string('AMPORA_PACKAGES_S3_ACCESS_KEY_ID');
  const secretAccessKey = r.string('AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY');
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) r.fail(accessKeyId ? 'AMPORA_PACKAGES_S3_SECRET_ACCESS_KEY' : 'AMPORA_PACKAGES_S3_ACCESS_KEY_ID', 'is required with the other half of the access key (or set neither: the AWS default credential chain)');
  return {
    kind: 's3',
    bucket: r.string('AMPORA_PACKAGES_S3_BUCKET') ?? '',
    endpoint: r.url('AMPORA_PACKAGES_S3_ENDPOINT', ['http', 'https']),
    region: r.string('AMPORA_PACKAGES_S3_REGION', 'us-east-1'),
    accessKeyId,
    secretAccessKey,
    sessionToken: r.string('AMPORA_PACKAGES_S3_SESSION_TOKEN'),
    forcePathStyle: r.bool('AMPORA_PACKAGES_S3_FORCE_PATH_STYLE', false),
    prefix: r.string('AMPORA_PACKAGES_S3_PREFIX', 'ampora-packages'),
  };
}

/** `;`-separated keys (a PEM holds commas and newlines, never `;`), each checked to be an ed25519 public key. */
function trustedKeys(text: string, fail: (problem: string) => void): string[] {
  const keys = text.split(';').map((k) => k.trim()).filter(Boolean);
  for (const k of keys) {
    try {
      ed25519PublicKey(k);
    } catch (error) {
      fail(`not an ed25519 public key (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return keys;
}
