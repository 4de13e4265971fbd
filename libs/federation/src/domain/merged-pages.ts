/**
 * The federated agent list's paging (decision 0313), pure. Each source (this deployment, each peer)
 * pages on its own keyset cursor; a merged page takes the newest `limit` of what the sources returned
 * (createdAt descending, then source and id), and the merged cursor keeps, per source, the cursor
 * after the last item of it the page showed. No item is skipped or shown twice across pages, whatever
 * the sources' sizes; a source that was down keeps its position for the next page.
 */

export const LOCAL = '';

export interface SourcePosition {
  /** The source's own cursor after the last item shown; absent at its start. */
  cursor?: string;
  /** Every item of the source was shown. */
  done?: true;
}

/** Position per source: LOCAL ('') for this deployment, else the peer's name. */
export type MergedCursor = Record<string, SourcePosition>;

export interface SourceItem {
  id: string;
  createdAt: string;
  cursor: string;
}

export interface SourcePage<T extends SourceItem> {
  source: string;
  items: T[];
  nextCursor: string | null;
}

/** The positions as text (the caller signs it into an opaque cursor). */
export function encodeMergedCursor(cursor: MergedCursor): string {
  return JSON.stringify(cursor);
}

/** The positions a merged cursor's text holds ({} at the start), or undefined when it is not one. */
export function decodeMergedCursor(text: string | undefined): MergedCursor | undefined {
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const out: MergedCursor = {};
    for (const [source, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (!value || typeof value !== 'object') return undefined;
      const v = value as Record<string, unknown>;
      if (v.cursor !== undefined && typeof v.cursor !== 'string') return undefined;
      out[source] = { ...(typeof v.cursor === 'string' ? { cursor: v.cursor } : {}), ...(v.done === true ? { done: true as const } : {}) };
    }
    return out;
  } catch {
    return undefined;
  }
}

function newerFirst(a: { source: string; item: SourceItem }, b: { source: string; item: SourceItem }): number {
  if (a.item.createdAt !== b.item.createdAt) return a.item.createdAt < b.item.createdAt ? 1 : -1;
  if (a.source !== b.source) return a.source < b.source ? -1 : 1;
  return a.item.id < b.item.id ? 1 : a.item.id > b.item.id ? -1 : 0;
}

/**
 * Merges the pages the sources answered (from the positions in `from`) into one page of at most
 * `limit`, and the merged cursor of the next page (null when every source that answered is done).
 * Sources in `from` that did not answer keep their position.
 */
export function mergePages<T extends SourceItem>(from: MergedCursor, pages: Array<SourcePage<T>>, limit: number): { items: Array<{ source: string; item: T }>; next: MergedCursor | null } {
  const all = pages.flatMap((p) => p.items.map((item) => ({ source: p.source, item })));
  all.sort(newerFirst);
  const shown = all.slice(0, limit);
  const next: MergedCursor = { ...from };
  let more = false;
  for (const page of pages) {
    const taken = shown.filter((s) => s.source === page.source);
    const last = taken[taken.length - 1];
    const position: SourcePosition = last ? { cursor: last.item.cursor } : { ...(from[page.source] ?? {}) };
    const exhausted = taken.length === page.items.length && page.nextCursor === null;
    next[page.source] = exhausted ? { ...position, done: true } : position;
    if (!exhausted) more = true;
  }
  return { items: shown, next: more ? next : null };
}
