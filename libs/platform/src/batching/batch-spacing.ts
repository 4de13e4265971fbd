/**
 * The spacing of the batches that connecting agents ask for (token lookups, redemptions, reattach and
 * assignment reads, leases; decision 0442), of the refusal memory's lookups in Redis (decision 0443)
 * and of the live bus's backplane messages (decision 0442): in a storm each
 * kind goes about 125 times a second at most, and a connection waits at most this long more at each.
 */
export const STORM_BATCH_SPACING_MS = 8;

/**
 * At most one batch per `ms` milliseconds (decision 0442), for a sender that otherwise sends at the
 * end of the turn: `holds` says whether a batch must wait now, and calls `resume` once when that
 * time is over; `sent` records a batch that went. Host time (`performance.now()`, `setTimeout`), like
 * the turn: a test's clock that stands still must not hold a batch back.
 */
export class BatchSpacing {
  private lastSentAt = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(private readonly ms: number) {}

  /** Whether a batch asked for now must wait; if so, `resume` runs when the spacing is over (once, however often this is asked meanwhile). */
  holds(resume: () => void): boolean {
    if (this.timer) return true;
    // (a timer may fire a little early by this clock: `resume` then asks again and waits for the rest)
    const wait = this.lastSentAt + this.ms - performance.now();
    if (wait <= 0) return false;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      resume();
    }, Math.ceil(wait));
    return true;
  }

  /** A batch went now (one that did not wait for the spacing, a full one, included). */
  sent(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.lastSentAt = performance.now();
  }
}
