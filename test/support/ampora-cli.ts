import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ampora/testing';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `ampora` (bin/ampora.js: the built CLI when dist/ is current, else the sources) as a child
 * process against a listening server, with a config directory of its own, the way a CI job does:
 * AMPORA_URL and AMPORA_TOKEN in the environment. Asynchronous, so this process's server and
 * simulated agents keep running meanwhile.
 */
export interface CliProcess {
  /** What it printed so far. */
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
  kill(): void;
}

export function amporaCli(url: string, token: string): { run(args: string[], timeoutMs?: number): Promise<CliRun>; start(args: string[]): CliProcess; home: string; cleanup(): void } {
  const home = mkdtempSync(join(tmpdir(), 'ampora-cli-home-'));
  const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: join(home, '.config'), AMPORA_URL: url, AMPORA_TOKEN: token };
  const start = (args: string[]): CliProcess => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'ampora.js'), ...args], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    return { stdout: () => stdout, stderr: () => stderr, exited, kill: () => child.kill('SIGKILL') };
  };
  return {
    home,
    start,
    cleanup: () => rmSync(home, { recursive: true, force: true }),
    run: async (args, timeoutMs = 90_000) => {
      const p = start(args);
      const timer = setTimeout(p.kill, timeoutMs);
      const code = await p.exited;
      clearTimeout(timer);
      if (code === null) throw new Error(`ampora ${args.join(' ')} did not end within ${timeoutMs} ms; stdout: ${p.stdout()}; stderr: ${p.stderr()}`);
      return { code, stdout: p.stdout(), stderr: p.stderr() };
    },
  };
}
