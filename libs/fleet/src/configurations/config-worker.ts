import { parentPort } from 'node:worker_threads';
import { parseCollectorConfig } from './domain/collector-config';
import { configDiff } from './domain/config-diff';
import type { ConfigJob } from './config-work';

/**
 * The worker thread that parses configuration texts (decision 0130): whatever a parse costs, it is
 * spent here, never on the event loop that answers requests and agents. Jobs run one at a time.
 */
parentPort?.on('message', ({ id, job }: { id: number; job: ConfigJob }) => {
  // the job's clock starts now (not while the worker was starting or busy with the jobs before it)
  parentPort!.postMessage({ id, started: true });
  try {
    const result = job.op === 'parse' ? parseCollectorConfig(job.text, job.options) : configDiff(job.from, job.to, job.labels, job.limits);
    parentPort!.postMessage({ id, result });
  } catch (error) {
    parentPort!.postMessage({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
