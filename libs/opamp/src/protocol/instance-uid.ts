import { randomBytes } from 'node:crypto';

/** A new UUIDv7 as 16 bytes (time-ordered, as the OpAMP spec recommends for instance_uid). */
export function newInstanceUid(now = Date.now()): Buffer {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

/**
 * A copy of `bytes` in memory of its own. A small Buffer from `Buffer.from`, `randomBytes` or a slice
 * of a received frame is a view into a shared 8 KiB slab (or the whole frame), which stays alive as
 * long as any view of it does: a uid kept for the life of a session would hold that much.
 */
export function ownedBytes(bytes: Uint8Array): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.byteLength);
  own.set(bytes);
  return own;
}

/** 16 bytes → canonical UUID text. */
export function uidToString(uid: Uint8Array): string {
  const hex = Buffer.from(uid.buffer, uid.byteOffset, uid.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Canonical UUID text → 16 bytes, or undefined when it is not a UUID. */
export function uidFromString(text: string): Buffer | undefined {
  const hex = text.trim().replace(/-/g, '');
  return /^[0-9a-fA-F]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}
