/** Raised inside an evaluation when its budget runs out; never escapes `evaluate`. */
export class BudgetExceeded extends Error {
  constructor(
    readonly kind: 'deadline' | 'steps',
    message: string,
  ) {
    super(message);
    this.name = 'BudgetExceeded';
  }
}

/** Work units between two reads of the clock. */
export const CLOCK_CHECK_INTERVAL = 256;

/** A source of milliseconds (monotonic); tests pass a fake one. */
export type Clock = () => number;

export const defaultClock: Clock = () => performance.now();

/**
 * The wall-clock and work budget of one evaluation. Every unit of work (a node evaluated, a regex
 * instruction visited, a character scanned) is spent here; the clock is read every
 * CLOCK_CHECK_INTERVAL units, so an evaluation stops at most that much work after its deadline.
 * The clock is first read after the first interval of work (most evaluations are shorter and never
 * read it); the deadline counts from there, which is at most one interval of work late.
 */
export class Budget {
  private spent = 0;
  private nextCheck = CLOCK_CHECK_INTERVAL;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly clock: Clock,
    readonly deadlineMs: number,
    private readonly maxSteps: number,
  ) {}

  /** Work done so far. */
  get steps(): number {
    return this.spent;
  }

  spend(units = 1): void {
    this.spent += units;
    if (this.spent < this.nextCheck) return;
    this.nextCheck = this.spent + CLOCK_CHECK_INTERVAL;
    if (this.spent > this.maxSteps) throw new BudgetExceeded('steps', `the evaluation took more than ${this.maxSteps} steps`);
    const now = this.clock();
    if (this.deadline === Number.POSITIVE_INFINITY) this.deadline = now + this.deadlineMs;
    else if (now > this.deadline) throw new BudgetExceeded('deadline', `the evaluation ran past its ${this.deadlineMs} ms deadline`);
  }
}

/** A budget that never runs out (compiling patterns outside an evaluation). */
export const UNLIMITED: Pick<Budget, 'spend'> = { spend: () => undefined };
