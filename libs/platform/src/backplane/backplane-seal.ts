import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const INFO = 'ampora/backplane/v1';
const PREFIX = 's1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Seals backplane messages with AES-256-GCM under a key derived (HKDF-SHA256) from the master key,
 * so configurations (which often hold credentials) and certificates never cross Redis or sit in
 * `dispatch_envelopes` in the clear, and nobody with access to Redis alone can inject a push. Without
 * a master key (development) messages travel in the clear. The previous master key still opens
 * messages during a key rotation.
 */
export class BackplaneSeal {
  private readonly keys: Buffer[];

  constructor(masterKey?: Buffer, previousMasterKey?: Buffer) {
    this.keys = [masterKey, previousMasterKey]
      .filter((k): k is Buffer => Boolean(k))
      .map((k) => Buffer.from(hkdfSync('sha256', k, Buffer.alloc(0), INFO, 32)));
  }

  get enabled(): boolean {
    return this.keys.length > 0;
  }

  seal(plain: string): string {
    if (!this.enabled) return plain;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys[0]!, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** The plain text of a message; throws when it cannot be trusted. */
  open(data: string): string {
    if (!data.startsWith(PREFIX)) {
      if (this.enabled) throw new Error('an unsealed message was refused: this deployment seals backplane messages (AMPORA_MASTER_KEY)');
      return data;
    }
    if (!this.enabled) throw new Error('a sealed message arrived, but this instance has no AMPORA_MASTER_KEY');
    const raw = Buffer.from(data.slice(PREFIX.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('a sealed message is truncated');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    const body = raw.subarray(IV_BYTES + TAG_BYTES);
    for (const key of this.keys) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        // try the next key
      }
    }
    throw new Error('a sealed message did not open with this instance\'s master key (is AMPORA_MASTER_KEY the same on every instance?)');
  }
}
