/** Pure rules of audit retention (issue 17 item 4, decision 0260). */

const DAY_MS = 86_400_000;

export interface RetentionWindows {
  /** Hot rows that occurred strictly before this instant move to the archive. */
  archiveBefore: Date;
  /** Archive rows that occurred strictly before this instant are purged. */
  purgeBefore: Date;
}

/**
 * The windows of one sweep at `now`. They are inclusive: a row aged exactly `hotDays` (or
 * `archiveDays`) is kept, and goes at the next sweep.
 */
export function retentionWindows(now: Date, hotDays: number, archiveDays: number): RetentionWindows {
  if (!Number.isInteger(hotDays) || hotDays < 1) throw new Error(`hot days must be a positive integer, not ${hotDays}`);
  if (!Number.isInteger(archiveDays) || archiveDays < 1) throw new Error(`archive days must be a positive integer, not ${archiveDays}`);
  return { archiveBefore: new Date(now.getTime() - hotDays * DAY_MS), purgeBefore: new Date(now.getTime() - archiveDays * DAY_MS) };
}

/** Per-tenant counts of one sweep, added up batch by batch. */
export class SweepTally {
  readonly archived = new Map<string, number>();
  readonly purged = new Map<string, number>();

  add(kind: 'archived' | 'purged', counts: ReadonlyArray<{ tenantId: string; count: number }>): number {
    let total = 0;
    for (const { tenantId, count } of counts) {
      this[kind].set(tenantId, (this[kind].get(tenantId) ?? 0) + count);
      total += count;
    }
    return total;
  }

  total(kind: 'archived' | 'purged'): number {
    let n = 0;
    for (const v of this[kind].values()) n += v;
    return n;
  }
}
