/**
 * At most `limit` tasks run at once; the others wait their turn in arrival order (decision 0392).
 * There is no timeout here: whoever waits bounds its own wait (an agent gives up on its connection),
 * and a task that never starts costs nothing but its place in the queue.
 */
export class AdmissionGate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`an admission gate needs a limit of at least 1, not ${limit}`);
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    // a finishing task hands its slot straight to the first waiter (running stays the same)
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
