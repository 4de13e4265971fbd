import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';
import { cursorScopeTag, openCursor, signCursor } from './cursor-keys';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** `?limit=&cursor=`: every list of the API pages this way. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE).describe(`Page size, 1 to ${MAX_PAGE_SIZE}`),
  cursor: z.string().max(1000).optional().describe('Opaque cursor from the previous page\'s nextCursor'),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The response schema of a page of `item`s. (Root schemas of DTOs carry no `id`: the DTO class
 * names the component; `id`s are for nested, shared schemas.)
 */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= to get the next page; null on the last page'),
  });
}

type KeyValue = string | number;

/** A cursor for the row after (key, id) in the list sorted by `scope`, signed (decision 0141). */
export function encodeCursor(scope: string, key: KeyValue, id: string): string {
  return signCursor([cursorScopeTag(scope), key, id]);
}

/** The (key, id) of a cursor this deployment issued for the list sorted by `scope`; INVALID_CURSOR otherwise. */
export function decodeCursor(scope: string, cursor: string): [KeyValue, string] {
  const parsed = openCursor(cursor);
  if (
    Array.isArray(parsed) &&
    parsed.length === 3 &&
    parsed[0] === cursorScopeTag(scope) &&
    (typeof parsed[1] === 'string' || typeof parsed[1] === 'number') &&
    typeof parsed[2] === 'string'
  ) {
    return [parsed[1], parsed[2]];
  }
  throw new PlatformException(PlatformErrorCode.INVALID_CURSOR, 'The cursor belongs to another list; pass nextCursor from the previous page of this list');
}

/**
 * Keyset pagination over (column, id). Fetches one row more than asked to know whether a next page
 * exists. `column` must be an expression on `alias` with millisecond (or coarser) precision.
 */
export async function paginate<E extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<E>,
  options: { alias: string; column: string; direction: 'ASC' | 'DESC'; query: PageQuery; key: (row: E) => KeyValue },
): Promise<Page<E>> {
  const { alias, column, direction, query } = options;
  const scope = `${alias}.${column}:${direction}`;
  if (query.cursor) {
    const [key, id] = decodeCursor(scope, query.cursor);
    const op = direction === 'ASC' ? '>' : '<';
    qb.andWhere(`(${alias}.${column}, ${alias}.id) ${op} (:__cursorKey, :__cursorId)`, { __cursorKey: key, __cursorId: id });
  }
  qb.orderBy(`${alias}.${column}`, direction).addOrderBy(`${alias}.id`, direction).take(undefined).limit(query.limit + 1);
  const rows = await qb.getMany();
  const hasMore = rows.length > query.limit;
  const items = hasMore ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(scope, options.key(last), last.id) : null };
}

export function mapPage<A, B>(page: Page<A>, fn: (a: A) => B): Page<B> {
  return { items: page.items.map(fn), nextCursor: page.nextCursor };
}
