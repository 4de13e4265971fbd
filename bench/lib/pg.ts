import { Client } from 'pg';

/**
 * The bench's own connection for its polls ("every row APPLIED?", counts, breakdowns). It plans
 * without parallel workers: a poll of a 10,000-row count every 100–250 ms otherwise starts two
 * PostgreSQL worker processes each time and takes about three times the CPU of a serial scan from
 * the two cores the bench is measuring (auto_explain, 2026-12-07: 85 ms per poll under a rollout).
 */
export function benchPgClient(url: string): Client {
  return new Client({ connectionString: url, options: '-c max_parallel_workers_per_gather=0' });
}
