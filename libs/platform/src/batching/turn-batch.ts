import { BatchSpacing } from './batch-spacing';

/**
 * Requests asked for in one turn of the event loop, answered together by one call (decisions 0421,
 * 0425): a reconnect storm or an enrolment storm opens hundreds of sessions per turn, and one database
 * round trip each costs the instance more than the agents' frames. Without `spacingMs` (below),
 * nothing waits for a timer: the batch goes when the turn ends (`setImmediate`) or as soon as it holds
 * `max` distinct keys, so in a quiet fleet every batch holds one request and adds no delay.
 *
 * With `inFlight`, at most that many batches run at once: requests asked meanwhile wait and go
 * together when one returns (decision 0431). A storm's requests then gather while the database
 * answers, instead of queueing as many batches of one behind a busy pool or admission gate; with
 * nothing running a request still goes at the end of its turn.
 *
 * With `spacingMs`, batches go at most once per that many milliseconds while requests keep coming
 * (decision 0442): a request asked sooner after the previous batch waits for the rest of that time,
 * with the others that come meanwhile. A quiet instance's request still goes at the end of its turn
 * (the previous batch is long past), and a full batch (`max`) goes at once; in a storm, where each
 * turn brings one agent and the database answers in about a millisecond, batches of one become
 * batches of several. The spacing is host time, like the turn: a test's clock that stands still must
 * not hold a batch back.
 *
 * Requests with the same key share one answer. `run` receives the distinct requests (the first one
 * asked for each key) and answers by key; a key it leaves out is answered `undefined`. When `run`
 * fails, every request of the batch fails with its error, as one failed statement failed its one
 * request before.
 */
export class TurnBatch<R, V> {
  private waiting = new Map<string, Entry<R, V>>();
  private scheduled?: NodeJS.Immediate;
  /** Batches sent and not answered yet. */
  private running = 0;
  /** Batches sent so far (each one call of `run`). */
  batches = 0;
  /** With `spacingMs`: when the last batch went, and the timer of one held back. */
  private readonly spacing?: BatchSpacing;

  constructor(
    private readonly options: {
      /** The key of a request: requests with the same key in one batch are asked once. */
      key: (request: R) => string;
      /** Answers a batch of distinct requests, by key. */
      run: (requests: R[]) => Promise<ReadonlyMap<string, V>>;
      /** At most this many distinct requests per batch. */
      max: number;
      /** At most this many batches running at once (unlimited when absent). */
      inFlight?: number;
      /** At least this many milliseconds between two batches, unless the second is full (none when absent). */
      spacingMs?: number;
    },
  ) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new Error(`a turn batch needs a max of at least 1, not ${options.max}`);
    if (options.inFlight !== undefined && (!Number.isInteger(options.inFlight) || options.inFlight < 1)) throw new Error(`a turn batch needs an inFlight of at least 1, not ${options.inFlight}`);
    if (options.spacingMs !== undefined && !(options.spacingMs >= 0 && Number.isFinite(options.spacingMs))) throw new Error(`a turn batch needs a spacingMs of 0 or more, not ${options.spacingMs}`);
    if (options.spacingMs) this.spacing = new BatchSpacing(options.spacingMs);
  }

  private get full(): boolean {
    return this.running >= (this.options.inFlight ?? Infinity);
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
      // with as many batches running as allowed, the request waits for one to return
      if (this.full) return;
      if (this.waiting.size >= this.options.max) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Sends what is waiting now instead of at the end of the turn (up to `max` requests a batch, while fewer than `inFlight` run). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.spacedOut()) return;
    while (this.waiting.size > 0 && !this.full) this.send(this.take());
  }

  /** Whether what waits is held back by `spacingMs` (a full batch never is): then it goes when that time is over. */
  private spacedOut(): boolean {
    if (!this.spacing || this.waiting.size === 0 || this.waiting.size >= this.options.max) return false;
    return this.spacing.holds(() => this.flush());
  }

  /** The first `max` waiting requests (all of them, usually). */
  private take(): Map<string, Entry<R, V>> {
    if (this.waiting.size <= this.options.max) {
      const all = this.waiting;
      this.waiting = new Map();
      return all;
    }
    const batch = new Map<string, Entry<R, V>>();
    for (const [key, entry] of this.waiting) {
      if (batch.size >= this.options.max) break;
      batch.set(key, entry);
      this.waiting.delete(key);
    }
    return batch;
  }

  private send(batch: Map<string, Entry<R, V>>): void {
    this.batches += 1;
    this.running += 1;
    this.spacing?.sent();
    let answered: Promise<ReadonlyMap<string, V>>;
    try {
      answered = this.options.run([...batch.values()].map((e) => e.request));
    } catch (error) {
      answered = Promise.reject(error);
    }
    answered
      .then(
        (answers) => {
          for (const [key, entry] of batch) {
            const value = answers.get(key);
            for (const w of entry.waiters) w.resolve(value);
          }
        },
        (error: unknown) => {
          for (const entry of batch.values()) for (const w of entry.waiters) w.reject(error);
        },
      )
      .finally(() => {
        this.running -= 1;
        // what gathered while the batches ran goes now, together
        if (this.waiting.size > 0) this.flush();
      });
  }
}

interface Entry<R, V> {
  request: R;
  waiters: Array<{ resolve: (value: V | undefined) => void; reject: (error: unknown) => void }>;
}
