/**
 * Path globs of GitOps sources (`**\/*.yaml`, `configs/**\/prod-?.yml`, `env/[ab]/*.yaml`), matched
 * against repository paths with `/` separators. `*` and `?` never cross a `/`; `**` as a whole
 * segment matches zero or more directories. Everything else is literal.
 */
export interface PathGlob {
  readonly pattern: string;
  matches(path: string): boolean;
}

export const MAX_GLOB_LENGTH = 500;

export class InvalidGlobError extends Error {}

export function compileGlob(pattern: string): PathGlob {
  if (pattern.length === 0 || pattern.length > MAX_GLOB_LENGTH) throw new InvalidGlobError(`a path glob has 1 to ${MAX_GLOB_LENGTH} characters`);
  if (pattern.startsWith('/')) throw new InvalidGlobError('a path glob is relative to the repository root (no leading /)');
  const segments = pattern.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) throw new InvalidGlobError('a path glob has no empty, . or .. segments');
  let source = '';
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
      return;
    }
    if (segment.includes('**')) throw new InvalidGlobError('** stands alone as a whole path segment');
    source += segmentSource(segment) + (last ? '' : '/');
  });
  const regex = new RegExp(`^${source}$`, 'u');
  return { pattern, matches: (path) => regex.test(path) };
}

function segmentSource(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) throw new InvalidGlobError('a [ in a path glob needs its ]');
      let body = segment.slice(i + 1, end);
      const negated = body.startsWith('!');
      if (negated) body = body.slice(1);
      if (body.length === 0 || body.includes('/')) throw new InvalidGlobError('a character class in a path glob is not empty and has no /');
      out += `[${negated ? '^/' : ''}${body.replace(/[\\\]^]/g, (c) => `\\${c}`)}]`;
      i = end;
    } else out += ch.replace(/[.+^${}()|\\]/g, (c) => `\\${c}`);
  }
  return out;
}
