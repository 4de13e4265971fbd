import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AvailableComponents, ParsedConfig } from './domain/collector-config';
import type { ConfigDiff } from './domain/config-diff';
import type { YamlLimits } from './domain/yaml-limits';

export type ConfigJob =
  | { op: 'parse'; text: string; options: { available?: AvailableComponents; limits?: YamlLimits; scanned?: boolean; document?: boolean } }
  | { op: 'diff'; from: string; to: string; labels: { from: string; to: string }; limits?: YamlLimits };

type Result<J extends ConfigJob> = J extends { op: 'parse' } ? ParsedConfig : ConfigDiff;

/** A job the worker could not finish: it ran past its time or out of its memory (the worker is replaced). */
export class ConfigWorkAborted extends Error {
  constructor(readonly reason: 'timeout' | 'memory' | 'crash', message: string) {
    super(message);
    this.name = 'ConfigWorkAborted';
  }
}

interface Pending {
  job: ConfigJob;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * One worker thread for parsing and diffing configuration texts, with a time limit per job and a
 * heap limit for the thread. A job that overruns is refused and the worker replaced; the jobs queued
 * behind it are sent again to the new worker. Started on first use.
 */
export class ConfigWork {
  private worker?: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly options: { timeoutMs: number; maxHeapMb: number }) {}

  run<J extends ConfigJob>(job: J): Promise<Result<J>> {
    if (this.closed) return Promise.reject(new ConfigWorkAborted('crash', 'the configuration worker is stopped'));
    const id = this.nextId++;
    return new Promise<Result<J>>((resolve, reject) => {
      this.pending.set(id, { job, resolve: resolve as (r: unknown) => void, reject });
      this.post(id);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ConfigWorkAborted('crash', 'the configuration worker stopped'));
    }
    this.pending.clear();
    await w?.terminate();
  }

  private post(id: number): void {
    const p = this.pending.get(id)!;
    const worker = this.worker ?? this.start();
    worker.postMessage({ id, job: p.job });
  }

  private start(): Worker {
    const resourceLimits = { maxOldGenerationSizeMb: this.options.maxHeapMb, maxYoungGenerationSizeMb: Math.max(8, Math.floor(this.options.maxHeapMb / 8)) };
    const ext = extname(__filename);
    const entry = join(__dirname, `config-worker${ext}`);
    // from sources (tests, ts-node) the worker compiles its TypeScript with swc; built code runs as is
    const worker =
      ext === '.ts'
        ? new Worker(
            `const swc = require('@swc/core'); const fs = require('fs');
             require.extensions['.ts'] = (m, f) => m._compile(swc.transformSync(fs.readFileSync(f, 'utf8'), { filename: f, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }).code, f);
             require(${JSON.stringify(entry)});`,
            { eval: true, resourceLimits },
          )
        : new Worker(entry, { resourceLimits });
    worker.unref();
    worker.on('message', ({ id, started, result, error }: { id: number; started?: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(id);
      if (!p) return;
      if (started) {
        p.timer = setTimeout(() => this.abort(new ConfigWorkAborted('timeout', `parsing took more than ${this.options.timeoutMs} ms`), worker), this.options.timeoutMs);
        p.timer.unref();
        return;
      }
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (error !== undefined) p.reject(new Error(error));
      else p.resolve(result);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.abort(new ConfigWorkAborted(memory ? 'memory' : 'crash', memory ? 'parsing ran out of its memory' : `the configuration worker failed: ${error.message}`), worker);
    });
    worker.on('exit', () => this.abort(new ConfigWorkAborted('crash', 'the configuration worker exited'), worker));
    this.worker = worker;
    return worker;
  }

  /** The oldest job is the one running (jobs run in order): refuse it, replace the worker, send the others again. */
  private abort(error: ConfigWorkAborted, from?: Worker): void {
    if (from && from !== this.worker) return;
    const old = this.worker;
    this.worker = undefined;
    void old?.terminate();
    const [first] = this.pending.keys();
    if (first !== undefined) {
      const p = this.pending.get(first)!;
      this.pending.delete(first);
      clearTimeout(p.timer);
      p.reject(error);
    }
    if (this.closed) return;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.post(id);
    }
  }
}
