import { spawn } from 'node:child_process';

/** One git process as spawned: what a test records to prove no secret is on a command line. */
export interface GitInvocation {
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

export type GitSpawnHook = (invocation: GitInvocation) => void;

export class GitCommandError extends Error {
  constructor(
    readonly args: string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args[0] === '-C' ? args[2] : args[0]} failed${exitCode === null ? ' (killed)' : ` with exit code ${exitCode}`}: ${essentials(stderr)}`);
  }
}

/** What of git's stderr says why: no banners, no "make sure you have the correct access rights" boilerplate. */
function essentials(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('@@@') && !/^(Please make sure you have the correct access rights|and the repository exists\.)/.test(l));
  return lines.slice(0, 6).join(' ').slice(0, 600);
}

export interface GitRunOptions {
  cwd?: string;
  env: Record<string, string>;
  input?: string;
  timeoutMs: number;
  /** Words to cut out of stderr before it is kept or thrown (a secret git might echo). */
  redact?: string[];
}

/**
 * Runs the git CLI: arguments as an array (no shell), the environment given in full (nothing
 * inherited but PATH), stdout as bytes, stderr as text without the words to redact.
 */
export class GitCli {
  constructor(
    private readonly binary: string,
    private readonly onSpawn?: GitSpawnHook,
  ) {}

  run(args: string[], options: GitRunOptions): Promise<Buffer> {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', ...options.env };
    this.onSpawn?.({ args: [...args], env: { ...env }, cwd: options.cwd });
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let errBytes = 0;
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => {
        if (errBytes < 64 * 1024) err.push(b);
        errBytes += b.length;
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) return resolve(Buffer.concat(out));
        let stderr = Buffer.concat(err).toString('utf8');
        for (const word of options.redact ?? []) if (word) stderr = stderr.split(word).join('***');
        reject(new GitCommandError(args, code, stderr));
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input ?? '');
    });
  }
}
