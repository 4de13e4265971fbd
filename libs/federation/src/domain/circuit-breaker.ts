/** Settings of a peer's circuit breaker. */
export interface BreakerSettings {
  /** Consecutive failures that open the circuit. */
  failures: number;
  /** How long an open circuit refuses calls before one probe is let through. */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * One peer's circuit breaker (pure; time is passed in). Closed: calls go through and consecutive
 * failures are counted; at `failures` it opens. Open: calls are refused until `openMs` has passed,
 * then one probe goes through (half-open): its success closes the circuit, its failure opens it again.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openedAt: number | undefined;
  private probing = false;

  constructor(private readonly settings: BreakerSettings) {}

  state(now: number): BreakerState {
    if (this.openedAt === undefined) return 'closed';
    return now - this.openedAt >= this.settings.openMs ? 'half-open' : 'open';
  }

  /** Whether a call may go now; a half-open circuit lets exactly one through until it reports. */
  allow(now: number): boolean {
    const state = this.state(now);
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.openedAt = undefined;
    this.probing = false;
  }

  failure(now: number): void {
    this.probing = false;
    this.consecutive++;
    if (this.openedAt !== undefined || this.consecutive >= this.settings.failures) this.openedAt = now;
  }

  /** When an open circuit lets a probe through (for the error a refused caller gets). */
  retryAt(): number | undefined {
    return this.openedAt === undefined ? undefined : this.openedAt + this.settings.openMs;
  }
}
