/**
 * The arithmetic of the abuse limits (decision 0290): attempts are counted in fixed windows of
 * `windowSeconds` aligned on the epoch, so every instance counts into the same window without
 * talking to the others; an attempt is over its limit when the window's count exceeds it. A limit of
 * 0 is off.
 */
export interface FixedWindow {
  /** The window's number since the epoch (part of its counter's key). */
  index: number;
  /** Epoch milliseconds when the window ends (and its counter is forgotten). */
  endsAt: number;
}

export function windowAt(nowMs: number, windowSeconds: number): FixedWindow {
  const size = windowSeconds * 1000;
  const index = Math.floor(nowMs / size);
  return { index, endsAt: (index + 1) * size };
}

export function overLimit(count: number, limit: number): boolean {
  return limit > 0 && count > limit;
}

/** `Retry-After` (whole seconds, at least 1) of a block that ends at `endsAt`. */
export function secondsUntil(endsAt: number, nowMs: number): number {
  return Math.max(1, Math.ceil((endsAt - nowMs) / 1000));
}

/** One address, however it came (`::ffff:10.0.0.1` and `10.0.0.1` are the same source). */
export function sourceAddress(remoteAddress: string | undefined): string {
  if (!remoteAddress) return 'unknown';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}
