import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { TreeEntry } from '../domain/sweep-plan';
import { GitCli } from './git-cli';

export interface MirrorAccess {
  env: Record<string, string>;
  timeoutMs: number;
  redact: string[];
}

export interface CommitInfo {
  sha: string;
  author: string;
}

/**
 * The bare cache of one source (`<data dir>/gitops/<source id>.git`). The repository URL is given on
 * each fetch and never written into the cache's config; only the tracked branch is fetched, shallow,
 * forced (a force-pushed branch simply moves).
 */
export class GitMirror {
  constructor(
    private readonly git: GitCli,
    readonly dir: string,
  ) {}

  async ensure(access: MirrorAccess): Promise<void> {
    if (existsSync(`${this.dir}/HEAD`)) return;
    await mkdir(this.dir, { recursive: true });
    await this.git.run(['init', '--bare', '--quiet', this.dir], { ...access });
  }

  /** Fetches the branch and answers its tip commit. */
  async fetch(url: string, branch: string, access: MirrorAccess): Promise<string> {
    const ref = `refs/heads/${branch}`;
    await this.git.run(['-C', this.dir, 'fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--force', '--depth=1', '--', url, `+${ref}:${ref}`], { ...access });
    return (await this.git.run(['-C', this.dir, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { ...access })).toString('utf8').trim();
  }

  async commit(sha: string, access: MirrorAccess): Promise<CommitInfo> {
    const out = (await this.git.run(['-C', this.dir, 'log', '-1', '--format=%H%x00%an <%ae>', sha, '--'], { ...access })).toString('utf8').trim();
    const [full, author] = out.split('\0');
    return { sha: full ?? sha, author: author ?? '' };
  }

  /** Every regular file of the tree (symbolic links and submodules are not configurations). */
  async tree(sha: string, access: MirrorAccess): Promise<TreeEntry[]> {
    const out = (await this.git.run(['-C', this.dir, 'ls-tree', '-r', '-l', '-z', '--full-tree', sha], { ...access })).toString('utf8');
    const entries: TreeEntry[] = [];
    for (const record of out.split('\0')) {
      if (!record) continue;
      const tab = record.indexOf('\t');
      const [mode, type, object, size] = record.slice(0, tab).split(/ +/);
      if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) continue;
      entries.push({ path: record.slice(tab + 1), blobSha: object!, size: Number(size) });
    }
    return entries;
  }

  /** The bytes of the given blobs, read by one `git cat-file --batch`. */
  async blobs(shas: string[], access: MirrorAccess): Promise<Map<string, Buffer>> {
    const result = new Map<string, Buffer>();
    if (shas.length === 0) return result;
    const unique = [...new Set(shas)];
    const out = await this.git.run(['-C', this.dir, 'cat-file', '--batch'], { ...access, input: `${unique.join('\n')}\n` });
    let at = 0;
    while (at < out.length) {
      const eol = out.indexOf(0x0a, at);
      if (eol < 0) break;
      const [sha, type, size] = out.subarray(at, eol).toString('utf8').split(' ');
      at = eol + 1;
      if (type === 'missing' || size === undefined) continue;
      const n = Number(size);
      result.set(sha!, out.subarray(at, at + n));
      at += n + 1;
    }
    return result;
  }
}
