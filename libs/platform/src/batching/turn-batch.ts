/**
 * Requests asked for in one turn of the event loop, answered together by one call (decisions 0421,
 * 0425): a reconnect storm or an enrolment storm opens hundreds of sessions per turn, and one database
 * round trip each costs the instance more than the agents' frames. Nothing waits for a timer: the
 * batch goes when the turn ends (`setImmediate`) or as soon as it holds `max` distinct keys, so in a
 * quiet fleet every batch holds one request and adds no delay.
 *
 * Requests with the same key share one answer. `run` receives the distinct requests (the first one
 * asked for each key) and answers by key; a key it leaves out is answered `undefined`. When `run`
 * fails, every request of the batch fails with its error, as one failed statement failed its one
 * request before.
 */
export class TurnBatch<R, V> {
  private waiting = new Map<string, { request: R; waiters: Array<{ resolve: (value: V | undefined) => void; reject: (error: unknown) => void }> }>();
  private scheduled?: NodeJS.Immediate;
  /** Batches sent so far (each one call of `run`). */
  batches = 0;

  constructor(
    private readonly options: {
      /** The key of a request: requests with the same key in one batch are asked once. */
      key: (request: R) => string;
      /** Answers a batch of distinct requests, by key. */
      run: (requests: R[]) => Promise<ReadonlyMap<string, V>>;
      /** At most this many distinct requests per batch. */
      max: number;
    },
  ) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new Error(`a turn batch needs a max of at least 1, not ${options.max}`);
  }

  /** Requests waiting for the end of the turn. */
  get pending(): number {
    return this.waiting.size;
  }

  ask(request: R): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const key = this.options.key(request);
      const entry = this.waiting.get(key);
      if (entry) entry.waiters.push({ resolve, reject });
      else this.waiting.set(key, { request, waiters: [{ resolve, reject }] });
      if (this.waiting.size >= this.options.max) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is waiting now instead of at the end of the turn. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.waiting.size === 0) return;
    const batch = this.waiting;
    this.waiting = new Map();
    this.batches += 1;
    let answered: Promise<ReadonlyMap<string, V>>;
    try {
      answered = this.options.run([...batch.values()].map((e) => e.request));
    } catch (error) {
      answered = Promise.reject(error);
    }
    answered.then(
      (answers) => {
        for (const [key, entry] of batch) {
          const value = answers.get(key);
          for (const w of entry.waiters) w.resolve(value);
        }
      },
      (error: unknown) => {
        for (const entry of batch.values()) for (const w of entry.waiters) w.reject(error);
      },
    );
  }
}
