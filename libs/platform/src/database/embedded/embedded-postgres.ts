import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { createLogger } from '../../logging/logger';
import { registerPoolStats } from '../instrumented-pg';
import { scopeStatement, wantedScope } from '../tenant-isolation';

const log = createLogger('Ampora.Platform.Database.Embedded');

type Release = () => void;

/** A FIFO mutex: PGlite has one session, so every statement (or transaction) takes it in turn. */
class Mutex {
  private locked = false;
  private readonly waiters: Array<(release: Release) => void> = [];

  get busy(): boolean {
    return this.locked;
  }

  acquire(): Promise<Release> {
    return new Promise((resolveAcquire) => {
      const grant = () => {
        this.locked = true;
        let released = false;
        resolveAcquire(() => {
          if (released) return;
          released = true;
          const next = this.waiters.shift();
          if (next) next(() => undefined);
          else this.locked = false;
        });
      };
      if (!this.locked) grant();
      else this.waiters.push(() => grant());
    });
  }
}

export interface PgLikeResult {
  rows: unknown[];
  rowCount: number;
  command: string;
  fields: Array<{ name: string; dataTypeID: number }>;
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const END = /^\s*(COMMIT|END|ROLLBACK)\s*(;?\s*$|\s+(WORK|TRANSACTION|AND)\b)/i;
const LISTEN = /^\s*(UN)?LISTEN\s+("?)([^";\s]+|\*)\2\s*;?\s*$/i;

type QueryArgs = [text: string | { text: string; values?: unknown[] }, params?: unknown[] | ((err: Error | null, res?: PgLikeResult) => void), cb?: (err: Error | null, res?: PgLikeResult) => void];

/**
 * One in-process PostgreSQL (PGlite) for the embedded storage mode, shared by TypeORM and BullMQ
 * through `pg.Pool` look-alikes. A client that opens a transaction holds the session until it
 * commits or rolls back, so transactions of different "connections" never interleave and keep
 * their isolation; other statements take the session one at a time.
 */
export class EmbeddedPostgres {
  private static readonly open = new Map<string, Promise<EmbeddedPostgres>>();
  readonly mutex = new Mutex();
  private searchPath = '';
  /** The tenant scope the one session is set to ('' = the owner), as `applyScope` does per pooled connection. */
  private scope = '';
  private readonly channels = new Map<string, Set<EmbeddedClient>>();
  private clients = 0;
  private closed = false;

  private constructor(
    readonly db: PGlite,
    readonly dataDir: string,
    private readonly lockFile: string,
  ) {
    db.onNotification((channel, payload) => {
      for (const client of this.channels.get(channel) ?? []) client.emit('notification', { channel, payload, processId: 0 });
    });
    registerPoolStats({ open: () => this.clients, busy: () => (this.mutex.busy ? 1 : 0) });
  }

  /** Opens (once per process) the embedded database in `dataDir`, creating it on first use. */
  static get(dataDir: string): Promise<EmbeddedPostgres> {
    const dir = resolve(dataDir);
    let instance = EmbeddedPostgres.open.get(dir);
    if (!instance) {
      instance = EmbeddedPostgres.start(dir);
      EmbeddedPostgres.open.set(dir, instance);
      instance.catch(() => EmbeddedPostgres.open.delete(dir));
    }
    return instance;
  }

  /** The already opened database of `dataDir` (prepareDatabase opens it before anything else). */
  static current(dataDir: string): EmbeddedPostgres {
    const ready = EmbeddedPostgres.ready.get(resolve(dataDir));
    if (!ready) throw new Error(`the embedded database in ${dataDir} is not open yet (prepareDatabase opens it)`);
    return ready;
  }

  private static readonly ready = new Map<string, EmbeddedPostgres>();

  private static async start(dir: string): Promise<EmbeddedPostgres> {
    mkdirSync(dir, { recursive: true });
    const lockFile = join(dir, 'ampora.lock');
    if (existsSync(lockFile)) {
      const pid = Number(readFileSync(lockFile, 'utf8').trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`the embedded database in ${dir} is in use by process ${pid}; stop it first (one process owns an embedded store)`);
      }
    }
    writeFileSync(lockFile, String(process.pid));
    const firstRun = !existsSync(join(dir, 'pgdata', 'PG_VERSION'));
    const started = Date.now();
    // PGlite ships ESM and CJS; load lazily so deployments on PostgreSQL never pay for it
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { PGlite } = require('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
    const db = await PGlite.create({
      dataDir: join(dir, 'pgdata'),
      // match node-postgres: int8 and numeric as strings, bytea as Buffer
      parsers: {
        20: (v: string) => v,
        1700: (v: string) => v,
        17: (v: string) => Buffer.from(v.startsWith('\\x') ? v.slice(2) : v, 'hex'),
      },
    });
    const instance = new EmbeddedPostgres(db, dir, lockFile);
    EmbeddedPostgres.ready.set(dir, instance);
    log.info('Embedded PostgreSQL {State} in {DataDir} in {ElapsedMs} ms', { State: firstRun ? 'created' : 'opened', DataDir: dir, ElapsedMs: Date.now() - started });
    return instance;
  }

  /**
   * A `pg.Pool` look-alike whose statements run with the given search_path; `tenantScoped` (the
   * application's pool) runs each client's statements in the tenant scope of the context that took
   * it (decision 0395); the queues' pool stays the owner's.
   */
  pool(searchPath = 'public', tenantScoped = false): EmbeddedPool {
    return new EmbeddedPool(this, searchPath, tenantScoped);
  }

  /** A `pg` module look-alike for TypeORM's `driver` option. */
  pgModule(searchPath = 'public'): unknown {
    const pool = () => this.pool(searchPath, true);
    return {
      Pool: function Pool() {
        return pool();
      },
      defaults: {},
      types: { setTypeParser: () => undefined, getTypeParser: () => (v: unknown) => v },
    };
  }

  /** Runs one statement on the session (the caller holds the mutex), in the client's tenant scope. */
  async run(searchPath: string, text: string, params: unknown[] | undefined, scope = ''): Promise<PgLikeResult> {
    if (this.closed) throw new Error('the embedded database is closed');
    if (searchPath !== this.searchPath) {
      await this.db.exec(`SET search_path TO ${searchPath}`);
      this.searchPath = searchPath;
    }
    if (scope !== this.scope) {
      const { text: move, values } = scopeStatement(scope);
      this.scope = '\u0000unknown';
      await this.db.query(move, values);
      this.scope = scope;
    }
    if (params && params.length > 0) {
      const r = await this.db.query(text, params.map(toParam));
      return { rows: r.rows, rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length, command: r.command ?? commandOf(text), fields: r.fields };
    }
    const results = await this.db.exec(text);
    const last = results[results.length - 1] ?? { rows: [], fields: [] };
    return { rows: last.rows, rowCount: last.rowCount ?? last.affectedRows ?? last.rows.length, command: last.command ?? commandOf(text), fields: last.fields };
  }

  async listen(client: EmbeddedClient, channel: string, on: boolean): Promise<void> {
    const set = this.channels.get(channel) ?? new Set<EmbeddedClient>();
    if (on) {
      if (set.size === 0) await this.db.exec(`LISTEN "${channel.replace(/"/g, '""')}"`);
      set.add(client);
      this.channels.set(channel, set);
    } else {
      set.delete(client);
      if (set.size === 0 && this.channels.delete(channel)) await this.db.exec(`UNLISTEN "${channel.replace(/"/g, '""')}"`);
    }
  }

  forget(client: EmbeddedClient): void {
    for (const [channel, set] of this.channels) if (set.delete(client) && set.size === 0) this.channels.delete(channel);
  }

  clientOpened(): void {
    this.clients += 1;
  }

  clientClosed(): void {
    this.clients = Math.max(0, this.clients - 1);
  }

  /** Closes the database and releases the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    const release = await this.mutex.acquire();
    try {
      this.closed = true;
      await this.db.close();
    } finally {
      release();
      EmbeddedPostgres.open.delete(this.dataDir);
      EmbeddedPostgres.ready.delete(this.dataDir);
      rmSync(this.lockFile, { force: true });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

function commandOf(text: string): string {
  return (/^\s*(\w+)/.exec(text)?.[1] ?? '').toUpperCase();
}

/** node-postgres turns objects into JSON and Dates into ISO text; PGlite gets the same values. */
function toParam(v: unknown): unknown {
  if (v === undefined) return null;
  if (v instanceof Date || Buffer.isBuffer(v) || v instanceof Uint8Array || v === null) return v;
  if (Array.isArray(v)) return v;
  if (typeof v === 'object') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** A `pg.PoolClient` look-alike: a virtual connection to the one embedded session. */
export class EmbeddedClient extends EventEmitter {
  private held?: Release;
  private released = false;

  constructor(
    private readonly pg: EmbeddedPostgres,
    private readonly searchPath: string,
    private readonly onRelease: () => void = () => undefined,
    /** The tenant scope of the context that took this client ('' = the owner). */
    private readonly scope = '',
  ) {
    super();
    pg.clientOpened();
  }

  query(...args: QueryArgs): Promise<PgLikeResult> | void {
    const [first, second, third] = args;
    const text = typeof first === 'string' ? first : first.text;
    const params = typeof second === 'function' ? (typeof first === 'string' ? undefined : first.values) : (second ?? (typeof first === 'string' ? undefined : first.values));
    const cb = typeof second === 'function' ? second : third;
    const promise = this.execute(text, params);
    if (cb) {
      promise.then((r) => cb(null, r), (e: Error) => cb(e));
      return;
    }
    return promise;
  }

  private async execute(text: string, params: unknown[] | undefined): Promise<PgLikeResult> {
    if (this.released) throw new Error('the client was released');
    const listen = LISTEN.exec(text);
    if (listen) {
      await this.pg.listen(this, listen[3]!, !listen[1]);
      return { rows: [], rowCount: 0, command: listen[1] ? 'UNLISTEN' : 'LISTEN', fields: [] };
    }
    if (this.held) {
      // inside this client's transaction: the session is ours
      const result = await this.pg.run(this.searchPath, text, params, this.scope);
      if (END.test(text)) this.endTransaction();
      return result;
    }
    const release = await this.pg.mutex.acquire();
    if (BEGIN.test(text)) {
      this.held = release;
      try {
        return await this.pg.run(this.searchPath, text, params, this.scope);
      } catch (error) {
        this.endTransaction();
        throw error;
      }
    }
    try {
      return await this.pg.run(this.searchPath, text, params, this.scope);
    } finally {
      release();
    }
  }

  private endTransaction(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }

  /** Back to the pool; an open transaction is rolled back first. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.pg.forget(this);
    this.pg.clientClosed();
    this.onRelease();
    if (this.held) {
      void this.pg.run(this.searchPath, 'ROLLBACK', undefined, this.scope).finally(() => this.endTransaction());
    }
  }

  end(): Promise<void> {
    this.release();
    return Promise.resolve();
  }

  connect(): Promise<void> {
    return Promise.resolve();
  }
}

/** A `pg.Pool` look-alike over the embedded session. */
export class EmbeddedPool extends EventEmitter {
  totalCount = 0;
  idleCount = 0;
  waitingCount = 0;

  constructor(
    private readonly pg: EmbeddedPostgres,
    readonly searchPath: string,
    private readonly tenantScoped = false,
  ) {
    super();
  }

  connect(): Promise<EmbeddedClient>;
  connect(cb: (err: Error | null, client?: EmbeddedClient, release?: () => void) => void): void;
  connect(cb?: (err: Error | null, client?: EmbeddedClient, release?: () => void) => void): Promise<EmbeddedClient> | void {
    this.totalCount += 1;
    const client = new EmbeddedClient(
      this.pg,
      this.searchPath,
      () => {
        this.totalCount = Math.max(0, this.totalCount - 1);
      },
      this.tenantScoped ? wantedScope() : '',
    );
    if (cb) {
      cb(null, client, () => client.release());
      return;
    }
    return Promise.resolve(client);
  }

  async query(text: string | { text: string; values?: unknown[] }, params?: unknown[]): Promise<PgLikeResult> {
    const client = await this.connect();
    try {
      return (await client.query(text, params)) as PgLikeResult;
    } finally {
      client.release();
    }
  }

  /** TypeORM ends pools with a callback, BullMQ with a promise. */
  end(cb?: (err?: Error) => void): Promise<void> {
    this.removeAllListeners();
    cb?.();
    return Promise.resolve();
  }
}
