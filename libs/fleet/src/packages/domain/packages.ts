import { createHash, createHmac, createPublicKey, KeyObject, timingSafeEqual, verify } from 'node:crypto';

/**
 * Packages (issue 20 item 4, decisions 0331–0333), the pure part: names and versions, ed25519
 * signatures over the package's bytes, the short-lived signed download URL, the offer's hashes, and
 * the agent's reported statuses as the API shows them. No Nest, no I/O.
 */

export type PackageType = 'TopLevel' | 'Addon';

/** A package name as OpAMP carries it (the map key of PackagesAvailable): the top-level one is ''. */
export const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const PACKAGE_VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/;

/** One package an agent is assigned (stored on the agent; offered in PackagesAvailable). */
export interface AssignedPackage {
  versionId: string;
  version: string;
  type: PackageType;
  /** sha256 of the file, hex: the store's address and the DownloadableFile's content_hash. */
  contentHash: string;
  /** base64 of the ed25519 signature over the file's bytes ('' when the package is unsigned). */
  signature: string;
}

export type AssignedPackages = Record<string, AssignedPackage>;

/** A content hash as the store names files: sha256, lower-case hex. */
export const CONTENT_HASH = /^[0-9a-f]{64}$/;

/**
 * The object key of a stored file in an S3-compatible bucket (decision 0377): content-addressed like
 * the data directory's layout, under an optional prefix (normalised to end with one `/`).
 */
export function packageObjectKey(prefix: string, hash: string): string {
  if (!CONTENT_HASH.test(hash)) throw new Error('not a sha256 content hash');
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return `${p ? `${p}/` : ''}sha256/${hash.slice(0, 2)}/${hash}`;
}

export const sha256Hex = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/**
 * An ed25519 public key from configuration: PEM (SPKI) or the 32 raw bytes in base64. Throws on
 * anything else (the configuration is refused at start).
 */
export function ed25519PublicKey(text: string): KeyObject {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return createPublicKey(t);
  const raw = Buffer.from(t, 'base64');
  if (raw.length !== 32) throw new Error('an ed25519 public key is 32 bytes (base64) or an SPKI PEM');
  // SPKI DER prefix of an Ed25519 public key (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
}

/** Whether `signature` is an ed25519 signature of `content` by one of `keys` (the index of the key, or -1). */
export function verifiedBy(content: Buffer, signature: Buffer, keys: readonly KeyObject[]): number {
  if (signature.length !== 64) return -1;
  return keys.findIndex((k) => {
    try {
      return verify(null, content, k, signature);
    } catch {
      return false;
    }
  });
}

/** The hash of everything offered (PackagesAvailable.all_packages_hash): sha256 over the sorted name, version and content hash. */
export function allPackagesHash(packages: AssignedPackages): Buffer {
  const h = createHash('sha256');
  for (const name of Object.keys(packages).sort()) {
    const p = packages[name]!;
    h.update(`${name}\0${p.type}\0${p.version}\0${p.contentHash}\n`);
  }
  return h.digest();
}

/** The hash of one offered package (PackageAvailable.hash): its type, version and content. */
export function packageHash(name: string, p: AssignedPackage): Buffer {
  return createHash('sha256').update(`${name}\0${p.type}\0${p.version}\0${p.contentHash}`).digest();
}

/** The download path of a stored file (on the API port; decision 0332). */
export const downloadPath = (contentHash: string): string => `/v1/packages/${contentHash}`;

function urlMac(key: Buffer, contentHash: string, expires: number): Buffer {
  return createHmac('sha256', key).update(`ampora-package-download\0${contentHash}\0${expires}`).digest();
}

/** A signed URL to one stored file, valid until `expiresAtMs` (whole seconds). */
export function signedDownloadUrl(baseUrl: string, key: Buffer, contentHash: string, expiresAtMs: number): string {
  const expires = Math.ceil(expiresAtMs / 1000);
  return `${baseUrl}${downloadPath(contentHash)}?expires=${expires}&signature=${urlMac(key, contentHash, expires).toString('base64url')}`;
}

export type DownloadCheck = 'ok' | 'expired' | 'bad-signature';

/** Whether a download URL's `expires` and `signature` are Ampora's and still valid at `nowMs`. */
export function checkDownload(key: Buffer, contentHash: string, expires: string | undefined, signature: string | undefined, nowMs: number): DownloadCheck {
  const exp = Number(expires);
  if (!Number.isSafeInteger(exp) || typeof signature !== 'string') return 'bad-signature';
  const given = Buffer.from(signature, 'base64url');
  const want = urlMac(key, contentHash, exp);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return 'bad-signature';
  return exp * 1000 < nowMs ? 'expired' : 'ok';
}

/** An agent's package state as the API shows it (spec §2.9: Installing / Installed / Failed, plus what precedes them). */
export type PackageState = 'Installed' | 'InstallPending' | 'Installing' | 'Failed' | 'Downloading';

export interface PackageStatusView {
  name: string;
  state: PackageState;
  agentHasVersion: string;
  /** hex */
  agentHasHash: string;
  serverOfferedVersion: string;
  /** hex */
  serverOfferedHash: string;
  error: string | null;
  downloadPercent: number | null;
}

export interface PackageStatusesView {
  packages: PackageStatusView[];
  /** hex of the all-packages hash the agent last received */
  serverProvidedAllPackagesHash: string;
  error: string | null;
}

const STATES: Record<string, PackageState> = {
  PackageStatusEnum_Installed: 'Installed',
  PackageStatusEnum_InstallPending: 'InstallPending',
  PackageStatusEnum_Installing: 'Installing',
  PackageStatusEnum_InstallFailed: 'Failed',
  PackageStatusEnum_Downloading: 'Downloading',
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const hex = (b64: unknown): string => Buffer.from(str(b64), 'base64').toString('hex');

/**
 * The stored PackageStatuses (the protobuf JSON form the protocol layer keeps: enum names, bytes in
 * base64, defaults omitted) → the API's view. A status the agent left out is `Installed` (proto3's 0).
 */
export function packageStatusesView(stored: unknown): PackageStatusesView | null {
  if (!isRecord(stored)) return null;
  const packages = isRecord(stored.packages) ? stored.packages : {};
  return {
    packages: Object.keys(packages)
      .sort()
      .map((key) => {
        const p = isRecord(packages[key]) ? (packages[key] as Record<string, unknown>) : {};
        const details = isRecord(p.downloadDetails) ? p.downloadDetails : undefined;
        return {
          name: str(p.name) || key,
          state: STATES[str(p.status)] ?? 'Installed',
          agentHasVersion: str(p.agentHasVersion),
          agentHasHash: hex(p.agentHasHash),
          serverOfferedVersion: str(p.serverOfferedVersion),
          serverOfferedHash: hex(p.serverOfferedHash),
          error: str(p.errorMessage) || null,
          downloadPercent: details && typeof details.downloadPercent === 'number' ? details.downloadPercent : null,
        };
      }),
    serverProvidedAllPackagesHash: hex(stored.serverProvidedAllPackagesHash),
    error: str(stored.errorMessage) || null,
  };
}
