import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { AMPORA_CONFIG } from '../config/config.module';
import { createLogger } from '../logging/logger';

/** One worker of the deployment analyzes at a time (a transaction-scoped advisory lock). */
export const ANALYZE_LOCK = 0x616d_616e; // "aman"
/** A table is analyzed once it holds more rows than its last analysis counted by more than this many… */
export const ANALYZE_BASE_ROWS = 500;
/** …plus this share of that count. */
export const ANALYZE_SHARE = 0.2;

/**
 * The tables of this schema whose live rows (pg_stat_user_tables: inserts less deletes) exceed the
 * rows the planner believes in (pg_class.reltuples, set by the last analysis, whoever ran it) by more
 * than ANALYZE_BASE_ROWS + ANALYZE_SHARE of the latter, the most grown first. Only growth: a plan made
 * for a large table stays cheap on a small one, but not the other way round, and a table that empties
 * for a moment (the leases when every instance restarts) fills again at once; analyzed while empty,
 * it would be planned as empty while it refilled. Updates do not count either: heartbeats rewrite
 * every agent's row without changing what a plan should be.
 */
const GROWN_SQL = `SELECT format('%I.%I', s.schemaname, s.relname) AS name, s.n_live_tup::bigint AS rows, greatest(c.reltuples, 0)::bigint AS planned
  FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
  WHERE s.schemaname = current_schema() AND s.n_live_tup - greatest(c.reltuples, 0) > $1 + $2 * greatest(c.reltuples, 0)
  ORDER BY s.n_live_tup - greatest(c.reltuples, 0) DESC LIMIT 10`;

/**
 * Keeps PostgreSQL's planner statistics up with tables that grow fast (decision 0447). A statement
 * prepared on a pooled connection keeps the plan it chose while a table was small until that table is
 * analyzed again; autovacuum analyzes a table a minute after it changed by a tenth at best, and never
 * where it is off. An enrolment of 18,000 agents in half a minute ran, on every connection, joins
 * planned for an agents table of a few hundred rows: each read the whole table per call.
 *
 * Every AMPORA_DB_ANALYZE_INTERVAL_SECONDS, one worker of the deployment analyzes the tables that
 * grew past what the planner believes by more than 500 rows + a fifth; an analysis
 * replaces the cached plans that read the table. A lock it cannot have within a second is left for
 * the next turn.
 */
@Injectable()
export class PlannerStatistics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger('Ampora.Platform.Database.PlannerStatistics');
  private timer?: NodeJS.Timeout;
  private running = false;
  private failing = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(AMPORA_CONFIG) private readonly config: PlatformConfig,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.database.analyzeIntervalSeconds;
    if (seconds === 0) return;
    this.timer = setInterval(() => void this.analyzeChanged(), seconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Analyzes the tables grown past the threshold since their last analysis; returns their names (none while another worker does). */
  async analyzeChanged(): Promise<string[]> {
    if (this.running) return [];
    this.running = true;
    try {
      const analyzed = await this.dataSource.transaction(async (m) => {
        const [{ locked }] = (await m.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [ANALYZE_LOCK])) as Array<{ locked: boolean }>;
        if (!locked) return [];
        await m.query(`SET LOCAL lock_timeout = '1s'`);
        const tables = (await m.query(GROWN_SQL, [ANALYZE_BASE_ROWS, ANALYZE_SHARE])) as Array<{ name: string; rows: string; planned: string }>;
        for (const t of tables) await m.query(`ANALYZE ${t.name}`);
        if (tables.length) this.log.debug('Analyzed {Tables}: {Rows} rows where the planner counted {Planned}', { Tables: tables.map((t) => t.name).join(', '), Rows: tables.map((t) => t.rows).join(', '), Planned: tables.map((t) => t.planned).join(', ') });
        return tables.map((t) => t.name);
      });
      if (this.failing) this.log.info('Planner statistics are analyzed again');
      this.failing = false;
      return analyzed;
    } catch (error) {
      if (!this.failing) this.log.warn('Could not analyze the tables that grew; PostgreSQL plans with older statistics until autovacuum does', {}, error);
      this.failing = true;
      return [];
    } finally {
      this.running = false;
    }
  }
}
