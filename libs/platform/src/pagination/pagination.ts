import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { z } from 'zod';
import { PlatformErrorCode, PlatformException } from '../errors/domain.exception';

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

export function encodeCursor(key: KeyValue, id: string): string {
  return Buffer.from(JSON.stringify([key, id]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): [KeyValue, string] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      (typeof parsed[0] === 'string' || typeof parsed[0] === 'number') &&
      typeof parsed[1] === 'string'
    ) {
      return [parsed[0], parsed[1]];
    }
  } catch {
    // fall through
  }
  throw new PlatformException(PlatformErrorCode.INVALID_CURSOR, 'The cursor is not one this API issued');
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
  if (query.cursor) {
    const [key, id] = decodeCursor(query.cursor);
    const op = direction === 'ASC' ? '>' : '<';
    qb.andWhere(`(${alias}.${column}, ${alias}.id) ${op} (:__cursorKey, :__cursorId)`, { __cursorKey: key, __cursorId: id });
  }
  qb.orderBy(`${alias}.${column}`, direction).addOrderBy(`${alias}.id`, direction).take(undefined).limit(query.limit + 1);
  const rows = await qb.getMany();
  const hasMore = rows.length > query.limit;
  const items = hasMore ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  return { items, nextCursor: hasMore && last ? encodeCursor(options.key(last), last.id) : null };
}

export function mapPage<A, B>(page: Page<A>, fn: (a: A) => B): Page<B> {
  return { items: page.items.map(fn), nextCursor: page.nextCursor };
}
