import { randomUUID } from 'node:crypto';
import { PlatformConfig, BackplaneKind } from '../config/ampora-config';
import { createLogger, Logger } from '../logging/logger';
import { BackplaneSeal } from './backplane-seal';

/** Where a message came from. */
export interface BackplaneMeta {
  topic: string;
  /** Instance id of the sender. */
  from: string;
  /** Sent to this instance only (true) or to every instance (false). */
  direct: boolean;
}

export type BackplaneHandler = (body: unknown, meta: BackplaneMeta) => void;

/** What travels: topic, sender (instance and process node) and a JSON body. */
interface Wire {
  v: 1;
  t: string;
  i: string;
  n: string;
  b: unknown;
}

const PING_TOPIC = 'backplane.ping';

/**
 * How the instances of one deployment reach each other: a channel per instance (`send`) and one
 * broadcast channel (`broadcast`), carrying JSON bodies by topic. Delivery is at most once and
 * unacknowledged (callers that need an answer send one back). Three transports implement it:
 * Redis pub/sub, PostgreSQL LISTEN/NOTIFY and, for a single process, in-process calls.
 *
 * Every message is sealed with the master key when one is configured (see BackplaneSeal). A
 * broadcast is not delivered back to the process that sent it: publishers deliver locally themselves.
 */
export abstract class Backplane {
  abstract readonly kind: BackplaneKind;
  readonly instanceId: string;
  /** This process's identity on the backplane (two apps of one process have different nodes). */
  readonly node = randomUUID();
  protected readonly log: Logger;
  private readonly handlers = new Map<string, Set<BackplaneHandler>>();
  private readonly seal: BackplaneSeal;
  private readonly pings = new Map<string, () => void>();
  private lastRefusalLog = 0;
  /** Totals since start, for diagnostics and tests. */
  readonly stats = { sent: 0, received: 0, refused: 0 };

  protected constructor(config: PlatformConfig, category: string) {
    this.instanceId = config.app.instanceId;
    this.log = createLogger(category);
    this.seal = new BackplaneSeal(config.security.masterKey, config.security.previousMasterKey);
    this.on(PING_TOPIC, (body) => {
      const nonce = (body as { nonce?: string } | null)?.nonce;
      if (nonce) this.pings.get(nonce)?.();
    });
  }

  /** Starts listening on this instance's channel and the broadcast channel. */
  abstract start(): Promise<void>;
  /** Stops listening and releases connections. */
  abstract stop(): Promise<void>;
  /** Hands the encoded message to the transport: to one instance, or to all (`null`). */
  protected abstract transmit(instanceId: string | null, data: string): Promise<void>;

  /** Sends to one instance (possibly this one). Resolves once the transport took the message. */
  async send(instanceId: string, topic: string, body: unknown): Promise<void> {
    await this.transmit(instanceId, this.encode(topic, body));
    this.stats.sent += 1;
  }

  /** Sends to every other process of the deployment. */
  async broadcast(topic: string, body: unknown): Promise<void> {
    await this.transmit(null, this.encode(topic, body));
    this.stats.sent += 1;
  }

  /** Handles messages of a topic; returns the function that stops it. */
  on(topic: string, handler: BackplaneHandler): () => void {
    let set = this.handlers.get(topic);
    if (!set) this.handlers.set(topic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /** A round trip through this instance's own channel; throws when it does not come back in time. */
  async check(timeoutMs = 1500): Promise<void> {
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.pings.set(nonce, resolve);
        timer = setTimeout(() => reject(new Error(`the ${this.kind} backplane did not deliver a message to this instance within ${timeoutMs} ms`)), timeoutMs);
        this.send(this.instanceId, PING_TOPIC, { nonce }).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      this.pings.delete(nonce);
    }
  }

  private encode(topic: string, body: unknown): string {
    const wire: Wire = { v: 1, t: topic, i: this.instanceId, n: this.node, b: body };
    return this.seal.seal(JSON.stringify(wire));
  }

  /** Called by the transport with every message that arrived. Never throws. */
  protected receive(data: string, direct: boolean): void {
    let wire: Wire;
    try {
      wire = JSON.parse(this.seal.open(data)) as Wire;
      if (wire?.v !== 1 || typeof wire.t !== 'string') throw new Error('not a backplane message');
    } catch (error) {
      this.stats.refused += 1;
      if (Date.now() - this.lastRefusalLog > 10_000) {
        this.lastRefusalLog = Date.now();
        this.log.warn('Refused a backplane message: {Reason}', { Reason: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    if (!direct && wire.n === this.node) return;
    this.stats.received += 1;
    const handlers = this.handlers.get(wire.t);
    if (!handlers) return;
    const meta: BackplaneMeta = { topic: wire.t, from: wire.i, direct };
    for (const handler of handlers) {
      try {
        handler(wire.b, meta);
      } catch (error) {
        this.log.error('A backplane handler for {Topic} failed', { Topic: wire.t }, error);
      }
    }
  }
}
