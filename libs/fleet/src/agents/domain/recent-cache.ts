/**
 * Values remembered for a short time, at most `max` of them. Entries are kept in the order they were
 * set (setting a key again moves it to the end), so the stale ones are at the front and are dropped
 * as new ones come in: the cache holds what was set in the last `ttlMs`, not everything ever set.
 */
export class RecentCache<K, V> {
  private readonly entries = new Map<K, { value: V; at: number }>();

  constructor(private readonly options: { ttlMs: number; max: number }) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value set less than `ttlMs` before `now`, or undefined. */
  get(key: K, now: number): V | undefined {
    const e = this.entries.get(key);
    return e && now - e.at < this.options.ttlMs ? e.value : undefined;
  }

  set(key: K, value: V, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: now });
    for (const [k, e] of this.entries) {
      if (now - e.at < this.options.ttlMs && this.entries.size <= this.options.max) break;
      this.entries.delete(k);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops the entries whose value matches. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [k, e] of this.entries) if (match(e.value)) this.entries.delete(k);
  }
}
