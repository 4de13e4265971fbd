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
export class ReplayHistory {
  private readonly tenants = new Map<string, { entries: Entry[]; floor: number }>();
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
    if (!t) this.tenants.set(event.tenantId, (t = { entries: [], floor: this.startedAt }));
    t.entries.push({ event, at: liveEventTime(event.id) ?? Date.parse(event.at), received: this.now() });
    if (t.entries.length > this.maxEvents) this.evict(t, t.entries.length - this.maxEvents);
  }

  /** The events of `tenantId` after `lastEventId`, or why they cannot all be given. */
  since(tenantId: string, lastEventId: string): ReplayResult {
    const lastAt = liveEventTime(lastEventId);
    if (lastAt === undefined) return { complete: false, reason: 'unknown_event_id' };
    if (this.maxEvents === 0 || this.maxAgeMs === 0) return { complete: false, reason: 'outside_window' };
    const t = this.tenants.get(tenantId);
    const floor = t ? this.prune(t) : Math.max(this.startedAt, this.now() - this.maxAgeMs);
    if (!t) return lastAt > floor ? { complete: true, events: [] } : { complete: false, reason: 'outside_window' };
    const index = t.entries.findIndex((e) => e.event.id === lastEventId);
    if (index >= 0) {
      const before = t.entries.slice(0, index).filter((e) => e.at > lastAt);
      return { complete: true, events: [...before, ...t.entries.slice(index + 1)].map((e) => e.event) };
    }
    if (lastAt <= floor) return { complete: false, reason: 'outside_window' };
    return { complete: true, events: t.entries.filter((e) => e.at > lastAt).map((e) => e.event) };
  }

  /** Drops entries past the age limit; returns the time before which events may be missing. */
  private prune(t: { entries: Entry[]; floor: number }): number {
    const cutoff = this.now() - this.maxAgeMs;
    let n = 0;
    while (n < t.entries.length && t.entries[n]!.received < cutoff) n += 1;
    if (n) this.evict(t, n);
    return Math.max(t.floor, cutoff);
  }

  private evict(t: { entries: Entry[]; floor: number }, n: number): void {
    for (const e of t.entries.splice(0, n)) t.floor = Math.max(t.floor, e.at);
  }
}
