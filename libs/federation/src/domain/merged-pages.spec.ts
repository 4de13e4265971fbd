import { decodeMergedCursor, encodeMergedCursor, LOCAL, MergedCursor, mergePages, SourceItem, SourcePage } from './merged-pages';

/** A source of `n` items, newest first, with createdAt minutes apart starting at `offset`. */
function source(name: string, n: number, offset: number): SourceItem[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${name}-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 1000 - (offset + i * 2))).toISOString(), cursor: `${name}:${i}` }));
}

/** Pages one source from its position, as a source's own keyset paging would. */
function pageOf(name: string, items: SourceItem[], position: { cursor?: string; done?: true } | undefined, limit: number): SourcePage<SourceItem> {
  const start = position?.cursor ? Number(position.cursor.split(':')[1]) + 1 : 0;
  const slice = position?.done ? [] : items.slice(start, start + limit);
  return { source: name, items: slice, nextCursor: start + limit < items.length ? `${name}:${start + limit - 1}` : null };
}

describe('merged pages', () => {
  it('walks two sources of different sizes with no item skipped or repeated, newest first', () => {
    const sources = { [LOCAL]: source('l', 7, 0), east: source('e', 3, 1) };
    const seen: string[] = [];
    let cursor: MergedCursor | null = {};
    let pages = 0;
    while (cursor) {
      const from: MergedCursor = cursor;
      const answered = Object.entries(sources).map(([name, items]) => pageOf(name, items, from[name], 4));
      const merged = mergePages(from, answered, 4);
      seen.push(...merged.items.map((i) => i.item.id));
      cursor = merged.next ? decodeMergedCursor(encodeMergedCursor(merged.next))! : null;
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(10);
    const times = seen.map((id) => [...sources[LOCAL], ...sources.east].find((i) => i.id === id)!.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('keeps the position of a source that did not answer, and ends when every answering source is done', () => {
    const merged = mergePages({ west: { cursor: 'w:3' } }, [{ source: LOCAL, items: source('l', 2, 0), nextCursor: null }], 10);
    expect(merged.next).toBeNull();
    const more = mergePages({ west: { cursor: 'w:3' } }, [{ source: LOCAL, items: source('l', 2, 0), nextCursor: 'l:1' }], 1);
    expect(more.next).toEqual({ west: { cursor: 'w:3' }, [LOCAL]: { cursor: 'l:0' } });
  });

  it('refuses a cursor that is not a merged one', () => {
    expect(decodeMergedCursor('abc')).toBeUndefined();
    expect(decodeMergedCursor('[1]')).toBeUndefined();
    expect(decodeMergedCursor('{"x":{"cursor":3}}')).toBeUndefined();
    expect(decodeMergedCursor(undefined)).toEqual({});
  });
});
