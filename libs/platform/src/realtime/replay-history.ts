import { liveEventTime, PublishedLiveEvent } from './live-event';

interface Entry {
  event: PublishedLiveEvent;
  /** Publish time (from the id), ms. */
  at: number;
  /** When this process received it, ms. */
  received: number;
}

export type ReplayResult =
  | { complete: true; events: PublishedLiveEvent[] }
  | { complete: false; reason: 'unknown_event_id' | 'outside_window' };

/**
 * The recent events of each tenant, for subscribers that reconnect with `Last-Event-ID`: at most
 * `maxEvents` per tenant and none older than `maxAgeMs`. Every instance receives every event, so a
 * subscriber may resume on any instance. Arrival order can differ slightly between instances, so a
 * resume also returns events that arrived here before the last one seen but were published after it.
 */
/**
 * A tenant's entries: those from `head` on are kept; the ones before it are evicted and dropped from
 * the array in one go once they are many (evicting one entry per event from the front of a
 * 10,000-entry array moved the whole array every time: 2.7 % of a server's CPU during a push).
 */
interface TenantHistory {
  entries: Entry[];
  head: number;
  floor: number;
}

export class ReplayHistory {
  private readonly tenants = new Map<string, TenantHistory>();
  /** Events published before this are unknown here (this process had not started). */
  private readonly startedAt: number;

  constructor(
    private readonly maxEvents: number,
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  add(event: PublishedLiveEvent): void {
    if (this.maxEvents === 0 || this.maxAgeMs === 0) return;
    let t = this.tenants.get(event.tenantId);
    if (!t) this.tenants.set(event.tenantId, (t = { entries: [], head: 0, floor: this.startedAt }));
    t.entries.push({ event, at: liveEventTime(event.id) ?? Date.parse(event.at), received: this.now() });
    const kept = t.entries.length - t.head;
    if (kept > this.maxEvents) this.evict(t, kept - this.maxEvents);
  }

  /** The events of `tenantId` after `lastEventId`, or why they cannot all be given. */
  since(tenantId: string, lastEventId: string): ReplayResult {
    const lastAt = liveEventTime(lastEventId);
    if (lastAt === undefined) return { complete: false, reason: 'unknown_event_id' };
    if (this.maxEvents === 0 || this.maxAgeMs === 0) return { complete: false, reason: 'outside_window' };
    const t = this.tenants.get(tenantId);
    const floor = t ? this.prune(t) : Math.max(this.startedAt, this.now() - this.maxAgeMs);
    if (!t) return lastAt > floor ? { complete: true, events: [] } : { complete: false, reason: 'outside_window' };
    const entries = t.entries.slice(t.head);
    const index = entries.findIndex((e) => e.event.id === lastEventId);
    if (index >= 0) {
      const before = entries.slice(0, index).filter((e) => e.at > lastAt);
      return { complete: true, events: [...before, ...entries.slice(index + 1)].map((e) => e.event) };
    }
    if (lastAt <= floor) return { complete: false, reason: 'outside_window' };
    return { complete: true, events: entries.filter((e) => e.at > lastAt).map((e) => e.event) };
  }

  /** Drops entries past the age limit; returns the time before which events may be missing. */
  private prune(t: TenantHistory): number {
    const cutoff = this.now() - this.maxAgeMs;
    let n = 0;
    while (t.head + n < t.entries.length && t.entries[t.head + n]!.received < cutoff) n += 1;
    if (n) this.evict(t, n);
    return Math.max(t.floor, cutoff);
  }

  private evict(t: TenantHistory, n: number): void {
    for (let i = t.head; i < t.head + n; i++) t.floor = Math.max(t.floor, t.entries[i]!.at);
    t.head += n;
    // the evicted leave the array in one go once there are an eighth of maxEvents of them (amortised
    // eight moves per event; the history holds at most that many evicted entries more)
    if (t.head >= Math.max(64, this.maxEvents >> 3)) {
      t.entries.splice(0, t.head);
      t.head = 0;
    }
  }
}
