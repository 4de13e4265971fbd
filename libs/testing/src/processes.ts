import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../../..');

/** The server's and worker's V8 settings, as `npm start` and the Docker images give them (scripts/node-options.js, decision 0428). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { withProductNodeOptions } = require(join(REPO_ROOT, 'scripts', 'node-options.js')) as { withProductNodeOptions: (env: Record<string, string>) => Record<string, string> };

/** Entry points of the built apps (`npm run build`). */
export function distEntry(app: 'server' | 'worker' | 'cli'): string {
  const file = join(REPO_ROOT, 'dist', 'apps', app, 'apps', app, 'src', 'main.js');
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build first`);
  return file;
}

export interface RunningProcess {
  child: ChildProcess;
  /** stdout lines, in order. */
  lines: string[];
  /** stdout lines that parsed as JSON log records. */
  records: Array<Record<string, unknown>>;
  stderr: string[];
  exited: Promise<number | null>;
  waitFor(predicate: (record: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Splits a child's stdout into lines as they arrive: each line is kept in `lines`, and in `records`
 * when it is a JSON log record (other lines, such as npm's banner, are only kept as text); `onLine`
 * runs after each.
 */
export function collectLines(stream: NodeJS.ReadableStream, lines: string[], records: Array<Record<string, unknown>>, onLine: () => void = () => undefined): void {
  let buffer = '';
  const take = (line: string) => {
    lines.push(line);
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log line
    }
    onLine();
  };
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      take(line);
    }
  });
  // a last line without its newline still counts once the stream ends
  stream.on('end', () => {
    if (buffer) take(buffer);
    buffer = '';
  });
}

/** Starts a built app as its own process with exactly the given environment (plus PATH). */
export function startProcess(app: 'server' | 'worker' | 'cli', env: Record<string, string>, args: string[] = [], nodeArgs: string[] = []): RunningProcess {
  // a worker's health port is off unless a test asks for one (parallel runs would share 4322)
  const given = { PATH: process.env.PATH ?? '', AMPORA_WORKER_HTTP_PORT: '0', ...env };
  const child = spawn(process.execPath, [...nodeArgs, distEntry(app), ...args], {
    cwd: REPO_ROOT,
    // the server and the worker get the V8 settings they get in production (scripts/node-options.js, decision 0428)
    env: app === 'cli' ? given : withProductNodeOptions(given),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const records: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  collectLines(child.stdout!, lines, records, () => {
    if (process.env.LOG_TO_STDOUT === '1') process.stdout.write(`[${app}] ${lines[lines.length - 1]}\n`);
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (process.env.LOG_TO_STDOUT === '1') process.stderr.write(`[${app}!] ${chunk}`);
  });
  // 'close', not 'exit': a child can exit before its pipes are drained, and a caller that reads
  // `lines` or `stderr` once `exited` settles must see everything the child wrote
  const exited = new Promise<number | null>((res) => child.once('close', (code, signal) => res(code ?? (signal ? -1 : null))));
  return {
    child,
    lines,
    records,
    stderr,
    exited,
    waitFor(predicate, timeoutMs = 30000) {
      return new Promise((res, rej) => {
        const check = () => {
          const hit = records.find(predicate);
          if (hit) {
            cleanup();
            res(hit);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          rej(new Error(`timed out waiting for a log line from ${app}; last lines:\n${lines.slice(-15).join('\n')}\n${stderr.join('')}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          rej(new Error(`${app} exited while waiting; last lines:\n${lines.slice(-15).join('\n')}\n${stderr.join('')}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the CLI to completion. */
export async function runCli(env: Record<string, string>, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startProcess('cli', env, args);
  const code = await p.exited;
  return { code, stdout: p.lines.join('\n'), stderr: p.stderr.join('') };
}

/** A TCP port that was free a moment ago (for processes that need a fixed port). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls an HTTP URL until it answers 200. */
export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
