import { FormEvent, useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';

export interface UrlFilters<K extends string> {
  /** Each filter's value from the URL ('' when absent). */
  filters: Record<K, string>;
  /** The page cursor in the URL. */
  cursor: string | undefined;
  /** The URL's query as a string: a key for forms that must reset when it changes. */
  key: string;
  /**
   * A filter form's submit handler: the form's named fields become the URL's filters (a field that is
   * empty or absent, like an unchecked box, removes its filter), from the first page.
   */
  apply(e: FormEvent<HTMLFormElement>): void;
  /** Sets filters directly (others kept), from the first page. */
  set(values: Partial<Record<K, string>>): void;
  /** Goes to the page after this one. */
  next(cursor: string): void;
  /** Goes back one page (the cursors seen are remembered in this view). */
  back(): void;
  hasPrevious: boolean;
}

/**
 * Filters and the pagination cursor of a list page, kept in the URL (bookmarkable, shareable): the
 * Fleet and Audit pages and every other cursor-paged list share it.
 */
export function useUrlFilters<K extends string>(keys: readonly K[]): UrlFilters<K> {
  const [params, setParams] = useSearchParams();
  const [previous, setPrevious] = useState<string[]>([]);
  const key = params.toString();
  const filters = useMemo(() => Object.fromEntries(keys.map((k) => [k, params.get(k) ?? ''])) as Record<K, string>, [key, keys.join()]);
  const cursor = params.get('cursor') ?? undefined;

  const set = useCallback(
    (values: Partial<Record<K, string>>) => {
      const next = new URLSearchParams(params);
      next.delete('cursor');
      for (const [k, v] of Object.entries(values) as Array<[K, string | undefined]>) {
        const trimmed = (v ?? '').trim();
        if (trimmed) next.set(k, trimmed);
        else next.delete(k);
      }
      setPrevious([]);
      setParams(next);
    },
    [params, setParams],
  );

  const apply = useCallback(
    (e: FormEvent<HTMLFormElement>) => {
      e.preventDefault();
      const data = new FormData(e.currentTarget);
      set(Object.fromEntries(keys.map((k) => [k, String(data.get(k) ?? '')])) as Partial<Record<K, string>>);
    },
    [keys, set],
  );

  const go = useCallback(
    (to: string | undefined) => {
      const next = new URLSearchParams(params);
      if (to) next.set('cursor', to);
      else next.delete('cursor');
      setParams(next);
    },
    [params, setParams],
  );

  return {
    filters,
    cursor,
    key,
    apply,
    set,
    next: (to) => {
      setPrevious((p) => [...p, cursor ?? '']);
      go(to);
    },
    back: () => {
      const to = previous[previous.length - 1];
      setPrevious((p) => p.slice(0, -1));
      go(to || undefined);
    },
    hasPrevious: previous.length > 0,
  };
}
