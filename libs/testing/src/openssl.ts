import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Runs the openssl CLI (an implementation independent of the code under test) without blocking the
 * event loop, so it can talk to a server running in the same process. Resolves with both streams and
 * the exit status; never rejects on a non-zero status (tests assert on it).
 */
export function openssl(args: string[], cwd: string): Promise<{ stdout: string; stderr: string; status: number }> {
  return new Promise((resolve) => {
    execFile('openssl', args, { cwd, maxBuffer: 10 * 1024 * 1024 }, (error, stdout, stderr) => {
      const status = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
      resolve({ stdout: String(stdout), stderr: String(stderr), status });
    });
  });
}

/** A scratch directory with helpers to write files into it. */
export function scratch(prefix = 'ampora-openssl-'): { dir: string; write(name: string, data: string | Uint8Array): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, data) {
      const path = join(dir, name);
      writeFileSync(path, data);
      return path;
    },
  };
}
