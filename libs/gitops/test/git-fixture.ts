import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A real repository made with the git CLI, reachable as file://<dir>, with its branch `main`. */
export class GitFixture {
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'ampora-gitops-repo-'));
    this.git('init', '--quiet', '--initial-branch=main');
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-c', 'user.name=Ada Lovelace', '-c', 'user.email=ada@example.test', '-c', 'commit.gpgsign=false', ...args], {
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', HOME: this.dir },
    }).toString('utf8').trim();
  }

  write(files: Record<string, string>): this {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, path)), { recursive: true });
      writeFileSync(join(this.dir, path), text);
    }
    return this;
  }

  remove(...paths: string[]): this {
    this.git('rm', '--quiet', ...paths);
    return this;
  }

  /** Commits everything and answers the new tip. */
  commit(message = 'change'): string {
    this.git('add', '--all');
    this.git('commit', '--quiet', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  /** Rewrites history: the branch moves to a commit that is not a descendant of the old tip. */
  rewrite(files: Record<string, string>): string {
    this.git('reset', '--quiet', '--hard', 'HEAD~1');
    this.write(files);
    return this.commit('rewritten');
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function collectorYaml(exporter = 'debug'): string {
  return `receivers:\n  otlp:\n    protocols:\n      grpc: {}\nexporters:\n  ${exporter}: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [${exporter}]\n`;
}
