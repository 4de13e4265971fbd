/**
 * The rows of a raw `manager.query`: TypeORM answers UPDATE and DELETE (with RETURNING) as
 * `[rows, rowCount]`, every other statement as the rows themselves.
 */
export function returnedRows<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
