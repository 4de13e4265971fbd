import { createHash } from 'node:crypto';

export interface ConfigFile {
  body: Uint8Array;
  contentType: string;
}
export type ConfigFiles = Record<string, ConfigFile>;

/**
 * The config_hash Ampora sends with a remote config: SHA-256 over the entries sorted by key, each as
 * `key \0 content_type \0 body \0`. Deterministic whatever order the map was built in.
 */
export function configMapHash(files: ConfigFiles): Buffer {
  const h = createHash('sha256');
  for (const key of Object.keys(files).sort()) {
    const f = files[key]!;
    h.update(key, 'utf8').update('\0').update(f.contentType, 'utf8').update('\0').update(f.body).update('\0');
  }
  return h.digest();
}

/**
 * A hash of what a config says, independent of file names and content types: the SHA-256 of the body
 * when there is one file, otherwise of `key \0 body \0` over the sorted keys. Drift compares these
 * (an agent may report its effective config under another file name than the one it was sent).
 */
export function configContentHash(files: ConfigFiles): string {
  const keys = Object.keys(files).sort();
  if (keys.length === 1) return createHash('sha256').update(files[keys[0]!]!.body).digest('hex');
  const h = createHash('sha256');
  for (const key of keys) h.update(key, 'utf8').update('\0').update(files[key]!.body).update('\0');
  return h.digest('hex');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
