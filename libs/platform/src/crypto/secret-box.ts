import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PlatformConfig } from '../config/ampora-config';
import { createLogger } from '../logging/logger';

/** The keys that wrap stored secrets: the current master key and, during one rotation, the previous. */
export interface MasterKeys {
  current: Buffer;
  previous?: Buffer;
  /** Where the current key came from: the configuration, or the generated development key file. */
  source: 'config' | 'file';
}

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID_BYTES = 8;
export const MASTER_KEY_FILE = 'master.key';

/** A short, non-secret name of a master key: the first 8 bytes of its SHA-256, hex. */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update('ampora-master-key-id').update(key).digest().subarray(0, KID_BYTES).toString('hex');
}

const resolved = new Map<string, MasterKeys>();

/**
 * The master keys of this deployment. `AMPORA_MASTER_KEY` (required in production); without it, a key
 * generated once into `<AMPORA_DATA_DIR>/master.key` (mode 0600) with a loud warning, so a development
 * install keeps working across restarts (decision 0061).
 */
export function resolveMasterKeys(config: PlatformConfig): MasterKeys {
  if (config.security.masterKey) {
    return { current: config.security.masterKey, previous: config.security.previousMasterKey, source: 'config' };
  }
  const dir = resolve(config.storage.dataDir);
  const cached = resolved.get(dir);
  if (cached) return cached;
  const file = join(dir, MASTER_KEY_FILE);
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  } catch {
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    }
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  }
  if (key.length !== 32) throw new Error(`${file} does not hold a base64 32-byte key; set AMPORA_MASTER_KEY`);
  createLogger('Ampora.Platform.Crypto.MasterKey').warn(
    'AMPORA_MASTER_KEY is not set: stored secrets (CA private keys) are wrapped with the generated development key in {KeyFile}. Losing that file makes them unrecoverable; set AMPORA_MASTER_KEY for any real deployment',
    { KeyFile: file },
  );
  const keys: MasterKeys = { current: key, previous: config.security.previousMasterKey, source: 'file' };
  resolved.set(dir, keys);
  return keys;
}

/**
 * AES-256-GCM envelope for secrets at rest. `context` (for example `pki_signing_keys:<id>`) is
 * authenticated data: a sealed value moved to another row does not open. The format is
 * `version(1) | master key id(8) | iv(12) | tag(16) | ciphertext`.
 */
export class SecretBox {
  private readonly currentId: string;
  private readonly previousId?: string;

  constructor(private readonly keys: MasterKeys) {
    this.currentId = masterKeyId(keys.current);
    this.previousId = keys.previous ? masterKeyId(keys.previous) : undefined;
  }

  /** The id of the key new secrets are sealed with. */
  get keyId(): string {
    return this.currentId;
  }

  seal(plaintext: Uint8Array, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), Buffer.from(this.currentId, 'hex'), iv, cipher.getAuthTag(), body]);
  }

  /** Opens a sealed value; `stale` when it was sealed with the previous master key (re-seal it). */
  open(sealed: Buffer, context: string): { plaintext: Buffer; stale: boolean } {
    if (sealed.length < 1 + KID_BYTES + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) throw new Error('not a sealed secret of a known format');
    const kid = sealed.subarray(1, 1 + KID_BYTES).toString('hex');
    let key: Buffer;
    if (kid === this.currentId) key = this.keys.current;
    else if (kid === this.previousId && this.keys.previous) key = this.keys.previous;
    else throw new Error(`the secret was sealed with master key ${kid}, which is neither AMPORA_MASTER_KEY nor AMPORA_PREVIOUS_MASTER_KEY`);
    const iv = sealed.subarray(1 + KID_BYTES, 1 + KID_BYTES + IV_BYTES);
    const tag = sealed.subarray(1 + KID_BYTES + IV_BYTES, 1 + KID_BYTES + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(1 + KID_BYTES + IV_BYTES + TAG_BYTES)), decipher.final()]);
    return { plaintext, stale: key !== this.keys.current };
  }

  /** The master key id a sealed value names (without opening it). */
  static keyIdOf(sealed: Buffer): string {
    return sealed.subarray(1, 1 + KID_BYTES).toString('hex');
  }
}
