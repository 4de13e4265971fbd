import * as pg from 'pg';
import { RequestContext } from '../context/request-context';
import { TenantLabels } from '../context/tenant-labels';
import { Metrics } from '../telemetry/catalogue';

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

function instrumentClient(client: pg.PoolClient): void {
  const target = client as unknown as Record<string | symbol, unknown>;
  if (target[INSTRUMENTED]) return;
  target[INSTRUMENTED] = true;
  const original = client.query.bind(client) as QueryFn;
  target.query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : (first?.text ?? '');
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

/** pg.Pool that times every statement and reports its connection counts. */
export class InstrumentedPool extends pg.Pool {
  constructor(config?: pg.PoolConfig) {
    super(config);
    livePools.add(this);
    this.on('connect', (client) => instrumentClient(client));
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
