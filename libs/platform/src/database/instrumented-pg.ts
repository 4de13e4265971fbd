import { createHash } from 'node:crypto';
import * as pg from 'pg';
import { RequestContext } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { createLogger } from '../logging/logger';
import { Metrics } from '../telemetry/catalogue';
import { applyScope, wantedScope } from './tenant-isolation';

const log = createLogger('Ampora.Platform.Database');
const livePools = new Set<pg.Pool>();
const INSTRUMENTED = Symbol('ampora.instrumented');

/**
 * A short, low-cardinality label for a statement: the verb and the main table
 * (`select agents`, `insert audit_events`, `begin`).
 */
export function queryLabel(sql: string): string {
  const text = sql.trimStart().slice(0, 4000);
  const verb = /^\(?\s*(\w+)/.exec(text)?.[1]?.toLowerCase() ?? 'other';
  let table: string | undefined;
  const pick = (re: RegExp) => re.exec(text)?.[1];
  switch (verb) {
    case 'select':
    case 'with':
      table = pick(/\bfrom\s+"?(?:\w+"?\.)?"?(\w+)"?/i);
      break;
    case 'insert':
      table = pick(/\binto\s+"?(?:\w+"?\.)?"?(\w+)"?/i);
      break;
    case 'update':
      table = pick(/^update\s+"?(?:\w+"?\.)?"?(\w+)"?/i);
      break;
    case 'delete':
      table = pick(/\bfrom\s+"?(?:\w+"?\.)?"?(\w+)"?/i);
      break;
    default:
      return ['begin', 'commit', 'rollback', 'savepoint', 'release', 'start', 'set', 'show'].includes(verb) ? verb : 'other';
  }
  return table ? `${verb} ${table.toLowerCase()}` : verb;
}

type QueryFn = (...args: unknown[]) => unknown;

/** The statement texts each connection prepares once (decision 0444): their names, by text. */
const preparedNames = new Map<string, string>();
/** A guard against a caller preparing texts it builds per call: a connection keeps every one it prepared. */
const PREPARED_MAX = 64;
let warnedPreparedMax = false;

/**
 * Marks a statement text as one each pooled connection parses and plans once, on its first use, and
 * then only binds and executes (a named prepared statement; decision 0444). For the few fixed texts
 * every connecting agent runs, in batches, where PostgreSQL spent as long planning as executing.
 * Returns `text`, so a call site reads `dataSource.query(prepared(SQL), params)`. Only fixed texts
 * with parameters: a text built per call (an IN list of its length) would be a new statement each time.
 * Statements run with parameters through the instrumented pool only (the embedded database plans
 * them as before); past 64 texts the rest run unprepared, with a warning.
 */
export function prepared(text: string): string {
  if (preparedNames.has(text)) return text;
  if (preparedNames.size >= PREPARED_MAX) {
    // more texts than fixed statements: one is built per call; run it unnamed rather than fill every connection
    if (!warnedPreparedMax) log.warn('More than {Max} statement texts were marked prepared: the rest run unprepared (is one built per call?)', { Max: PREPARED_MAX });
    warnedPreparedMax = true;
    return text;
  }
  preparedNames.set(text, `ampora_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
  return text;
}

function instrumentClient(client: pg.PoolClient): void {
  const target = client as unknown as Record<string | symbol, unknown>;
  if (target[INSTRUMENTED]) return;
  target[INSTRUMENTED] = true;
  const original = client.query.bind(client) as QueryFn;
  target.query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
    const name = typeof first === 'string' && Array.isArray(args[1]) ? preparedNames.get(first) : undefined;
    if (name) args.splice(0, 2, { name, text, values: args[1] });
    const start = process.hrtime.bigint();
    const result = original(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      const tenant = TenantLabels.of(RequestContext.tenantId());
      const done = () => Metrics.record('ampora_db_query_duration_seconds', Number(process.hrtime.bigint() - start) / 1e9, { tenant, query: queryLabel(text) });
      (result as Promise<unknown>).then(done, done);
    }
    return result;
  };
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * pg.Pool that times every statement, reports its connection counts, and hands out each connection
 * set to the tenant scope of the caller's context (decision 0395).
 */
export class InstrumentedPool extends pg.Pool {
  constructor(config?: pg.PoolConfig) {
    super(config);
    livePools.add(this);
    this.on('connect', (client) => instrumentClient(client));
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    // read in the caller's context, before the pool's own callbacks lose it
    const scope = wantedScope();
    // a checked-out client has no listener for a broken socket until its taker adds one: the
    // statements that set its scope fail instead of the process (decision 0395)
    const guarded = async <T>(client: pg.PoolClient, work: () => Promise<T>): Promise<T> => {
      const ignore = () => undefined;
      client.on('error', ignore);
      try {
        return await work();
      } finally {
        client.off('error', ignore);
      }
    };
    /**
     * A limited connection goes back to the pool as the owner's, so system work (the OpAMP path above
     * all) never pays for a request's scope; the request's checkout pays it, after its last statement.
     */
    const handOut = (client: pg.PoolClient, release: (err?: Error | boolean) => void): ((err?: Error | boolean) => void) => {
      if (!scope) return release;
      let released = false;
      const backToOwner = (err?: Error | boolean) => {
        if (released) return;
        released = true;
        if (err) return release(err);
        guarded(client, () => applyScope(client, '')).then(
          () => release(),
          (error: Error) => release(error),
        );
      };
      client.release = backToOwner;
      return backToOwner;
    };
    if (!callback) {
      return super.connect().then(async (client) => {
        try {
          await guarded(client, () => applyScope(client, scope));
        } catch (error) {
          client.release(error as Error);
          throw error;
        }
        handOut(client, client.release.bind(client));
        return client;
      });
    }
    super.connect((err, client, done) => {
      if (err || !client) return callback(err, client, done);
      guarded(client, () => applyScope(client, scope)).then(
        () => callback(undefined, client, handOut(client, done as (err?: Error | boolean) => void) as (release?: unknown) => void),
        (error: Error) => {
          // a connection whose scope is unknown is never reused
          done(error);
          callback(error, undefined, () => undefined);
        },
      );
    });
  }

  override end(): Promise<void>;
  override end(callback: () => void): void;
  override end(callback?: () => void): Promise<void> | void {
    livePools.delete(this);
    return callback ? super.end(callback) : super.end();
  }
}

/** The `pg` module with the instrumented pool, handed to TypeORM as its driver. */
export const instrumentedPg: typeof pg = Object.create(pg, { Pool: { value: InstrumentedPool, enumerable: true } });

/** A source of pool counts (the embedded store registers its own). */
export interface PoolStats {
  open(): number;
  busy(): number;
}
const extraSources = new Set<PoolStats>();
export function registerPoolStats(source: PoolStats): () => void {
  extraSources.add(source);
  return () => extraSources.delete(source);
}

let gaugesRegistered = false;

/** Registers the pool gauges once per process, labelled with this instance's id. */
export function registerPoolGauges(instanceId: string): void {
  if (gaugesRegistered) return;
  gaugesRegistered = true;
  const sum = (f: (p: pg.Pool) => number, g: (s: PoolStats) => number) =>
    [...livePools].reduce((n, p) => n + f(p), 0) + [...extraSources].reduce((n, s) => n + g(s), 0);
  Metrics.observableGauge('ampora_db_pool_open_connections', () => [
    { value: sum((p) => p.totalCount, (s) => s.open()), labels: { instance: instanceId } },
  ]);
  Metrics.observableGauge('ampora_db_pool_busy_connections', () => [
    { value: sum((p) => p.totalCount - p.idleCount, (s) => s.busy()), labels: { instance: instanceId } },
  ]);
}
