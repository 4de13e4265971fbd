import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { PlatformConfig } from '../config/ampora-config';
import { resolveMasterKeys } from '../crypto/secret-box';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';

/**
 * The keys that authenticate list cursors (decision 0141): HMAC-SHA256 keys derived (HKDF, info
 * `ampora/cursor/v1`) from the deployment's master key, so every instance that shares
 * `AMPORA_MASTER_KEY` accepts the cursors of the others, and the previous master key still opens
 * cursors during a rotation. Without `AMPORA_MASTER_KEY` (development) the generated key file of
 * decision 0061 is used. Keys are derived on first use, so a process that never pages touches no file.
 */
const INFO = 'ampora/cursor/v1';
const MAC_BYTES = 16;

const sources: Array<() => Buffer[]> = [];
let derived: Buffer[] | null = null;

function derive(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), INFO, 32));
}

/** Makes this deployment's master key(s) the source of cursor keys (called once per process by the platform). */
export function useCursorKeysOf(config: PlatformConfig): void {
  sources.unshift(() => {
    const keys = config.security.masterKey ? { current: config.security.masterKey, previous: config.security.previousMasterKey } : resolveMasterKeys(config);
    return [keys.current, keys.previous].filter((k): k is Buffer => Boolean(k)).map(derive);
  });
  derived = null;
}

/** Signing key first; every key a cursor may have been signed with after it. */
function cursorKeys(): Buffer[] {
  if (!derived) {
    const all = sources.flatMap((s) => s());
    const unique = all.filter((k, i) => all.findIndex((o) => o.equals(k)) === i);
    // nothing configured (a unit test, a tool): a key of this process only
    derived = unique.length ? unique : [randomBytes(32)];
  }
  return derived;
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

/** A short tag of the list a cursor belongs to (its sort), so a cursor of one list is refused by another. */
export function cursorScopeTag(scope: string): string {
  return createHash('sha256').update(scope).digest('base64url').slice(0, 8);
}

/** `<base64url JSON payload>.<base64url MAC>`. */
export function signCursor(payload: unknown): string {
  const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${body}.${mac(cursorKeys()[0]!, body).toString('base64url')}`;
}

function invalid(): PlatformException {
  return new PlatformException(PlatformErrorCode.INVALID_CURSOR, 'The cursor is not one this API issued; pass nextCursor from the previous page unchanged');
}

/** The payload of a cursor this deployment issued; INVALID_CURSOR for anything else. Cheap: no parsing before the MAC matches. */
export function openCursor(cursor: string): unknown {
  const dot = cursor.indexOf('.');
  if (dot <= 0 || dot !== cursor.lastIndexOf('.') || cursor.length > 1000) throw invalid();
  const body = cursor.slice(0, dot);
  const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
  if (given.length !== MAC_BYTES || !/^[A-Za-z0-9_-]+$/.test(body)) throw invalid();
  if (!cursorKeys().some((key) => timingSafeEqual(mac(key, body), given))) throw invalid();
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw invalid();
  }
}

/** Throws INVALID_CURSOR unless the cursor was issued by this deployment (the edge check of every list route). */
export function assertIssuedCursor(cursor: string): void {
  openCursor(cursor);
}
