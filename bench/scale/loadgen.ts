/**
 * The interop suite's opamp-go load generator (test/interop/loadgen, built once into
 * ~/.cache/ampora-interop by scripts/interop-build.js) as an independent client of bench/scale: N agents
 * on opamp-go's WebSocket client enrol with one bootstrap token each, heartbeat at the default
 * interval and answer every pushed config with APPLIED and their effective config.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ampora/testing';

export interface LoadgenEvent {
  event: 'connected' | 'applied' | 'deadline' | 'stopped';
  summary: { agents: number; connected: number; connects: number; remote_configs: number; applied: number; errors: number; elapsed_ms: number };
}

/** The cached binary (built if go is there and it is missing), or undefined. */
export function loadgenBinary(): string | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPeers } = require(join(REPO_ROOT, 'scripts', 'interop-build.js')) as { buildPeers(o: object): { loadgen: string } };
    return buildPeers({ only: ['loadgen'], log: () => undefined }).loadgen;
  } catch {
    const cache = process.env.AMPORA_INTEROP_CACHE || join(homedir(), '.cache', 'ampora-interop');
    const dir = existsSync(cache) ? readdirSync(cache).find((d) => d.startsWith('loadgen-') && existsSync(join(cache, d, 'loadgen'))) : undefined;
    return dir ? join(cache, dir, 'loadgen') : undefined;
  }
}

export interface Loadgen {
  child: ChildProcess;
  events: LoadgenEvent[];
  next(event: LoadgenEvent['event'], timeoutMs: number): Promise<LoadgenEvent>;
  stop(): Promise<void>;
}

export function startLoadgen(binary: string, url: string, tokens: string[], heartbeatSeconds: number, name: string): Loadgen {
  const dir = mkdtempSync(join(tmpdir(), 'ampora-scale-loadgen-'));
  writeFileSync(join(dir, 'tokens'), tokens.join('\n'));
  const child = spawn(binary, ['-url', url, '-n', String(tokens.length), '-tokens', join(dir, 'tokens'), '-deadline', '24h', '-hold', '24h', '-heartbeat', `${heartbeatSeconds}s`, '-stagger', '100us', '-name', name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: LoadgenEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        events.push(JSON.parse(line) as LoadgenEvent);
      } catch {
        // not an event
      }
      for (const w of waiters) w();
    }
  });
  const errors: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    if (errors.join('').length < 4000) errors.push(chunk);
  });
  return {
    child,
    events,
    next(event, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find((e) => e.event === event);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`loadgen: no ${event} event within ${timeoutMs} ms; stderr:\n${errors.join('')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
