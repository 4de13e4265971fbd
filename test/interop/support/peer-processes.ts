import { ChildProcess, spawn } from 'node:child_process';

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ampora/testing';

/** The built OpAMP peers and their processes (each in its own process group, killed with it). */

export interface PeerBinaries {
  go: string;
  testcol: string;
  opampsupervisor: string;
  loadgen: string;
  pkgagent: string;
}

const binaries: Partial<PeerBinaries> = {};

/** A peer's binary (built on first use, then taken from the cache outside the work tree). */
export function peer(name: 'testcol' | 'opampsupervisor' | 'loadgen' | 'pkgagent'): string {
  if (!binaries[name]) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { buildPeers } = require(join(REPO_ROOT, 'scripts', 'interop-build.js')) as { buildPeers(o: { log(l: string): void; only: string[] }): PeerBinaries };
    Object.assign(binaries, buildPeers({ log: () => undefined, only: [name] }));
  }
  return binaries[name]!;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns something truthy; the error names what was awaited and the last value. */
export async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 2000)})`);
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Ampora

const running = new Set<PeerProcess>();
/** Working directories of the peers (configs, Supervisor storage), removed with them. */
const peerDirs = new Set<string>();
export function peerDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  peerDirs.add(dir);
  return dir;
}

/** A peer started in its own process group; `kill()` ends the group (the Supervisor's Collector with it). */
export class PeerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<number | null>;
  private child: ChildProcess;

  constructor(
    readonly name: string,
    file: string,
    args: string[],
    env: Record<string, string> = {},
    cwd?: string,
  ) {
    this.child = spawn(file, args, { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(this);
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString('utf8'));
      if (this.output.length > 4000) this.output.splice(0, 1000);
      if (process.env.INTEROP_LOG === '1') process.stderr.write(`[${name}] ${chunk.toString('utf8')}`);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((res) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this);
        res(code ?? (signal ? -1 : null));
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  text(): string {
    return this.output.join('');
  }

  /** SIGTERM to the group, then SIGKILL to the group after `graceMs`. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const group = (s: NodeJS.Signals) => {
      try {
        process.kill(-this.pid, s);
      } catch {
        // gone
      }
    };
    if (this.alive) {
      group(signal);
      const done = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!done) group('SIGKILL');
      await this.exited;
    }
    // whatever the leader left in its group (a Collector that outlived its Supervisor)
    group('SIGKILL');
  }
}

/** Ends every peer still running and removes their directories (afterAll of each suite). */
export async function killAllPeers(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill('SIGTERM', 5_000)));
  for (const dir of peerDirs) rmSync(dir, { recursive: true, force: true });
  peerDirs.clear();
}

// ---------------------------------------------------------------------------------------------
// The Collector with the opamp extension (no Supervisor)

