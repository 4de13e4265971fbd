/**
 * What a GitOps source may say: repository URL schemes, branch names, poll bounds, and which
 * credential kind fits which URL. Pure rules; the service turns a refusal into a 422.
 */
export const POLL_INTERVAL_SECONDS = { min: 15, max: 3600, default: 60 };
export const DEFAULT_BRANCH = 'main';
export const DEFAULT_PATH_GLOB = '**/*.yaml';

export type RepositoryTransport = 'https' | 'ssh' | 'file';
export type CredentialKindName = 'None' | 'Pat' | 'SshKey';

/**
 * The transport of a repository URL, or a reason to refuse it. HTTPS URLs carry no user or password
 * (a credential goes in `credential`, sealed); SSH is `ssh://[user@]host[:port]/path` or
 * `user@host:path`; `file://` names a repository on the server's disk.
 */
export function repositoryTransport(url: string): { ok: true; transport: RepositoryTransport } | { ok: false; reason: string } {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) return { ok: false, reason: 'the repository URL has spaces or control characters' };
  if (url.startsWith('-')) return { ok: false, reason: 'the repository URL starts with -' };
  const scp = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+):(?!\/\/)(.+)$/.exec(url);
  if (scp) return { ok: true, transport: 'ssh' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'the repository URL is not an https://, ssh://, user@host:path or file:// URL' };
  }
  switch (parsed.protocol) {
    case 'https:':
      if (parsed.username || parsed.password) return { ok: false, reason: 'an HTTPS repository URL carries no user or password; give a Pat credential instead' };
      return { ok: true, transport: 'https' };
    case 'ssh:':
      if (parsed.password) return { ok: false, reason: 'an SSH repository URL carries no password; give an SshKey credential instead' };
      if (!parsed.hostname) return { ok: false, reason: 'the SSH repository URL has no host' };
      return { ok: true, transport: 'ssh' };
    case 'file:':
      if (parsed.host) return { ok: false, reason: 'a file:// repository URL names a local path (file:///path/to/repo)' };
      return { ok: true, transport: 'file' };
    default:
      return { ok: false, reason: `repository URLs are https://, ssh:// or file://, not ${parsed.protocol}//` };
  }
}

/** Which credential kinds a transport takes. */
export function credentialFits(transport: RepositoryTransport, kind: CredentialKindName): boolean {
  if (kind === 'None') return true;
  if (kind === 'Pat') return transport === 'https';
  return transport === 'ssh';
}

/** A branch name git accepts (the subset of `git check-ref-format` rules a branch needs). */
export function isValidBranch(branch: string): boolean {
  if (branch.length === 0 || branch.length > 250) return false;
  if (branch.startsWith('-') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.') || branch.endsWith('.lock')) return false;
  if (branch.includes('..') || branch.includes('//') || branch.includes('@{') || branch === '@') return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(branch)) return false;
  return branch.split('/').every((part) => !part.startsWith('.'));
}
