import { Clock, RequestContext, TimerHandle } from '@ampora/platform';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

/**
 * A clock the test drives: time stands still until `advance` (or `set`) moves it, and the timers
 * that fall due run in order of their due time, each seeing `nowMs()` at its own due time. Bind it
 * with `.overrideProvider(Clock).useValue(clock)`.
 */
export class TestClock extends Clock {
  private ms: number;
  private seq = 0;
  private readonly pending = new Map<number, Pending>();

  constructor(start: Date | number = Date.parse('2026-01-01T00:00:00Z')) {
    super();
    this.ms = typeof start === 'number' ? start : start.getTime();
  }

  nowMs(): number {
    return this.ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  /** Moves time forward by `ms`, running every timer that falls due (and awaiting the microtasks between them). */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.ms + ms);
  }

  /** Moves time to `at` (never backwards), running the timers due by then. */
  async set(at: Date | number): Promise<void> {
    await this.runUntil(Math.max(this.ms, typeof at === 'number' ? at : at.getTime()));
  }

  /** How many timers are waiting. */
  get pendingTimers(): number {
    return this.pending.size;
  }

  private schedule(fn: () => void, ms: number, every?: number): TimerHandle {
    const id = ++this.seq;
    this.pending.set(id, { id, at: this.ms + Math.max(0, ms), fn, every });
    const handle: TimerHandle = { cancel: () => void this.pending.delete(id), unref: () => handle };
    return handle;
  }

  private async runUntil(target: number): Promise<void> {
    for (;;) {
      await flushMicrotasks();
      let next: Pending | undefined;
      for (const p of this.pending.values()) if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (!next) break;
      this.ms = Math.max(this.ms, next.at);
      if (next.every) next.at += next.every;
      else this.pending.delete(next.id);
      RequestContext.detached(next.fn);
    }
    this.ms = target;
    await flushMicrotasks();
  }
}

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
