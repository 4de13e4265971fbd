import { decodeUtf8Text, resolveConfigurationName } from './file-naming';
import type { PathGlob } from './path-glob';

/** One blob of the tree at the tip (`git ls-tree -r -l`). */
export interface TreeEntry {
  path: string;
  blobSha: string;
  size: number;
}

/** What the last sweeps recorded about a path of this source. */
export interface TrackedFile {
  path: string;
  blobSha: string;
  configurationName: string;
  status: 'tracked' | 'orphaned';
}

export interface FileError {
  path: string;
  error: string;
}

/** First step: which files to read, which are unchanged, which are gone. */
export interface Selection {
  /** Matched files whose blob is new to this source: read them. */
  toRead: TreeEntry[];
  /** Matched files whose blob was already imported. */
  unchanged: TrackedFile[];
  /** Tracked files the tip no longer has (deleted, renamed, or outside the glob now). */
  orphaned: TrackedFile[];
  errors: FileError[];
  /** Files the glob matched. */
  seen: number;
}

export function selectFiles(entries: TreeEntry[], glob: PathGlob, tracked: TrackedFile[], maxBytes: number): Selection {
  const byPath = new Map(tracked.map((t) => [t.path, t]));
  const matched = entries.filter((e) => glob.matches(e.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const present = new Set(matched.map((e) => e.path));
  const selection: Selection = { toRead: [], unchanged: [], orphaned: [], errors: [], seen: matched.length };
  for (const entry of matched) {
    const known = byPath.get(entry.path);
    if (known && known.status === 'tracked' && known.blobSha === entry.blobSha) selection.unchanged.push(known);
    else if (entry.size > maxBytes) selection.errors.push({ path: entry.path, error: `the file has ${entry.size} bytes, more than the ${maxBytes} a configuration may have` });
    else selection.toRead.push(entry);
  }
  selection.orphaned = tracked.filter((t) => t.status === 'tracked' && !present.has(t.path));
  return selection;
}

/** A file to import: its text becomes a Draft version of the named configuration if the text is new. */
export interface PlannedImport {
  path: string;
  blobSha: string;
  name: string;
  text: string;
}

export interface ImportPlan {
  imports: PlannedImport[];
  errors: FileError[];
}

/**
 * Second step, once the new blobs are read: decode, name, and refuse names two files resolve to.
 * A name an unchanged file already holds stays with it; otherwise every file claiming the name is
 * refused (no file wins by accident of ordering).
 */
export function planImports(read: Array<TreeEntry & { bytes: Uint8Array }>, unchanged: TrackedFile[]): ImportPlan {
  const errors: FileError[] = [];
  const candidates: PlannedImport[] = [];
  for (const file of read) {
    const text = decodeUtf8Text(file.bytes);
    if (text === undefined) {
      errors.push({ path: file.path, error: 'the file is not UTF-8 text' });
      continue;
    }
    const named = resolveConfigurationName(file.path, text);
    if (!named.ok) {
      errors.push({ path: file.path, error: named.reason });
      continue;
    }
    candidates.push({ path: file.path, blobSha: file.blobSha, name: named.name, text });
  }
  const holders = new Map(unchanged.map((u) => [u.configurationName, u.path]));
  const claims = new Map<string, number>();
  for (const c of candidates) claims.set(c.name, (claims.get(c.name) ?? 0) + 1);
  const imports: PlannedImport[] = [];
  for (const c of candidates) {
    const holder = holders.get(c.name);
    if (holder !== undefined) errors.push({ path: c.path, error: `the name ${JSON.stringify(c.name)} is already that of ${holder}` });
    else if (claims.get(c.name)! > 1) errors.push({ path: c.path, error: `${claims.get(c.name)} files resolve to the name ${JSON.stringify(c.name)}; give them distinct "# ampora.name:" first lines` });
    else imports.push(c);
  }
  return { imports, errors };
}
