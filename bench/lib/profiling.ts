/** What benches share to profile the processes they start (`--server-node-options`, `--worker-node-options`). */

/** The monotonic clock in microseconds, the clock of V8's CPU profiles (their startTime and samples). */
export const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** A `--…-node-options "…"` value as the node arguments of a process (none when absent). */
export const nodeOptions = (value: string | undefined): string[] => value?.split(' ').filter(Boolean) ?? [];

/**
 * `--traces-sampler` / `--traces-sampler-arg` as the servers' and workers' environment (decision 0280;
 * moot without an OTLP endpoint, decision 0439).
 */
export const tracesSamplerEnv = (sampler: string | undefined, arg: string | undefined): Record<string, string> => ({
  ...(sampler ? { OTEL_TRACES_SAMPLER: sampler } : {}),
  ...(arg ? { OTEL_TRACES_SAMPLER_ARG: arg } : {}),
});
