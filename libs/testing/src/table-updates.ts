import type { DataSource } from 'typeorm';

/** A table's update counters: all updates, and those made in place (HOT). */
export interface TableUpdates {
  all: number;
  hot: number;
}

/**
 * `table`'s update counters once they reached at least `atLeast` updates. Backends report their
 * counters when next idle (up to 10 s later), so this waits up to 15 s for them; it returns what it
 * read last when they never got there, for the caller's assertion to say so.
 */
export async function tableUpdates(ds: DataSource, table: string, atLeast = 0): Promise<TableUpdates> {
  const read = async (): Promise<TableUpdates> => {
    const [row]: Array<{ all: string; hot: string }> = await ds.query(`SELECT n_tup_upd AS all, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relid = $1::regclass`, [table]);
    return { all: Number(row!.all), hot: Number(row!.hot) };
  };
  let now = await read();
  for (let i = 0; i < 150 && now.all < atLeast; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    now = await read();
  }
  return now;
}

/**
 * Has `connection`'s backend report its table counters (pg_stat_user_tables) now: a backend reports
 * them when next idle, at most once a second unless forced, so a reader could see counts seconds old.
 */
export async function reportTableCounters(connection: { query(sql: string): Promise<unknown> }): Promise<void> {
  await connection.query('SELECT pg_stat_force_next_flush()');
  await connection.query('SELECT 1'); // the idle moment after the call has passed
}
