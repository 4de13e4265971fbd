/**
 * Why an expression did not match:
 * - `parse`: not a valid expression (or a bad pattern);
 * - `limit`: too long, too many tokens, nested too deep;
 * - `type`: an operation on the wrong kind of value (`len(5)`, `"a" < 1`, `not "x"`);
 * - `missing`: a path that does not exist in the context was compared or passed on;
 * - `deadline`: the evaluation ran out of time (50 ms by default) or steps;
 * - `internal`: a defect in the evaluator itself (still a non-match, never an exception).
 */
export type DslErrorKind = 'parse' | 'limit' | 'type' | 'missing' | 'deadline' | 'internal';

export class DslError extends Error {
  constructor(
    readonly kind: DslErrorKind,
    message: string,
    /** Offset in the expression text (0-based), when known. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'DslError';
  }
}

export interface DslFailure {
  kind: DslErrorKind;
  message: string;
  position?: number;
}
