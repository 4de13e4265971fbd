/**
 * Exit codes a pipeline can rely on (issue 22; decision 0351): 0 ok, 1 failed, 2 usage, 3 a
 * validation or a policy denied the change. `rollout status --watch` ends with its final state.
 */
export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Denied: 3,
  RolloutPausedByGate: 4,
  RolloutFailed: 5,
  RolloutRolledBack: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A problem the CLI reports on stderr and ends with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = ExitCode.Failed,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.Usage);
