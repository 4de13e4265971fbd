import { createHash } from 'node:crypto';
import { Client, Notification } from 'pg';
import { DataSource } from 'typeorm';
import { PlatformConfig } from '../config/ampora-config';
import { Backplane } from './backplane';

/** NOTIFY payloads must be shorter than 8000 bytes; larger messages go through dispatch_envelopes. */
export const NOTIFY_LIMIT_BYTES = 7900;
/** A NOTIFY payload that points at a row of dispatch_envelopes. */
const REF_PREFIX = 'ref:';
/** Large broadcast messages are kept this long for every instance to read, then swept. */
const ENVELOPE_RETENTION_SECONDS = 600;
const SWEEP_INTERVAL_MS = 60_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/**
 * PostgreSQL LISTEN/NOTIFY: one channel per instance and a broadcast channel, on one dedicated
 * listening connection (re-established with backoff when it drops). A message larger than a NOTIFY
 * payload may be is written to `dispatch_envelopes` and its id notified; the receiver reads it (and
 * deletes it when it was addressed to this instance only). Notifications are handled one at a time,
 * in the order PostgreSQL delivered them.
 */
export class PostgresBackplane extends Backplane {
  readonly kind = 'postgres' as const;
  private client?: Client;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private readonly own: string;
  private readonly all = 'ampora_backplane_broadcast';

  constructor(
    private readonly config: PlatformConfig,
    private readonly dataSource: DataSource,
  ) {
    super(config, 'Ampora.Platform.Backplane.Postgres');
    this.own = PostgresBackplane.instanceChannel(this.instanceId);
  }

  /** Channel names are identifiers of at most 63 bytes: instance ids are hashed. */
  static instanceChannel(instanceId: string): string {
    return `ampora_backplane_${createHash('sha256').update(instanceId).digest('hex').slice(0, 40)}`;
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.connect();
    } catch (error) {
      this.log.warn('The PostgreSQL backplane could not listen yet; retrying', {}, error);
      this.scheduleReconnect();
    }
    this.sweeper = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.sweeper);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  protected async transmit(instanceId: string | null, data: string): Promise<void> {
    const channel = instanceId === null ? this.all : PostgresBackplane.instanceChannel(instanceId);
    if (Buffer.byteLength(data, 'utf8') <= NOTIFY_LIMIT_BYTES) {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [channel, data]);
      return;
    }
    await this.dataSource.query(
      `WITH e AS (INSERT INTO dispatch_envelopes (channel, payload) VALUES ($1, $2) RETURNING id)
       SELECT pg_notify($1, $3 || e.id::text) FROM e`,
      [channel, data, REF_PREFIX],
    );
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.database.url,
      application_name: `ampora:${this.instanceId}:backplane`,
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    client.on('notification', (n: Notification) => this.onNotification(n));
    client.on('error', (error: Error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    await client.connect();
    await client.query(`LISTEN "${this.own}"`);
    await client.query(`LISTEN "${this.all}"`);
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnectDelay = RECONNECT_MIN_MS;
    this.log.debug('Listening on {Channel}', { Channel: this.own });
  }

  private lost(client: Client, error?: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    this.log.warn('The PostgreSQL backplane connection was lost; reconnecting', { Error: error?.message ?? 'connection ended' });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connect().catch((error: unknown) => {
        this.log.debug('Backplane reconnect failed: {Error}', { Error: error instanceof Error ? error.message : String(error) });
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
        this.scheduleReconnect();
      });
    }, this.reconnectDelay);
    this.reconnectTimer.unref();
  }

  private onNotification(n: Notification): void {
    const direct = n.channel === this.own;
    const payload = n.payload ?? '';
    // one at a time, so that a large message read from the table keeps its place in the order
    this.chain = this.chain.then(async () => {
      if (!payload.startsWith(REF_PREFIX)) return this.receive(payload, direct);
      const id = payload.slice(REF_PREFIX.length);
      try {
        // TypeORM answers a DELETE with [rows, rowCount]
        const rows: Array<{ payload: string }> = direct
          ? ((await this.dataSource.query('DELETE FROM dispatch_envelopes WHERE id = $1 RETURNING payload', [id])) as [Array<{ payload: string }>, number])[0]
          : await this.dataSource.query('SELECT payload FROM dispatch_envelopes WHERE id = $1', [id]);
        if (rows[0]) this.receive(rows[0].payload, direct);
        else this.log.warn('Backplane envelope {EnvelopeId} was gone before it was read', { EnvelopeId: id });
      } catch (error) {
        this.log.warn('Reading backplane envelope {EnvelopeId} failed', { EnvelopeId: id }, error);
      }
    });
  }

  /** Deletes large messages older than the retention (broadcasts, and any nobody read). */
  private async sweep(): Promise<void> {
    try {
      await this.dataSource.query(`DELETE FROM dispatch_envelopes WHERE created_at < now() - make_interval(secs => $1)`, [ENVELOPE_RETENTION_SECONDS]);
    } catch (error) {
      this.log.debug('Sweeping dispatch_envelopes failed: {Error}', { Error: error instanceof Error ? error.message : String(error) });
    }
  }
}
