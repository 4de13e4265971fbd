import { ClientRequest, IncomingMessage, request } from 'node:http';

/** One Server-Sent Event as the client saw it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export function sseJson<T = Record<string, unknown>>(e: SseEvent): T {
  return JSON.parse(e.data) as T;
}

export interface SseOpenOptions {
  token?: string;
  lastEventId?: string;
  headers?: Record<string, string>;
}

/**
 * A Server-Sent Events client for tests over a raw HTTP request, so a test can stop reading
 * (`pause()`) and make the server's buffers fill the way a slow browser would.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  /** Comment lines (`: keep-alive`) seen. */
  comments = 0;
  ended = false;
  private buffer = '';
  private waiters = new Set<() => void>();

  private constructor(
    private readonly req: ClientRequest,
    readonly response: IncomingMessage,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.onData(chunk));
    const end = () => {
      this.ended = true;
      this.notify();
    };
    response.on('end', end);
    response.on('close', end);
    response.on('error', end);
  }

  /** Opens the stream; rejects with `{ status, body }` when the answer is not 200. */
  static open(url: string, options: SseOpenOptions = {}): Promise<SseClient> {
    const headers: Record<string, string> = { accept: 'text/event-stream', ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
    return new Promise((resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => reject(Object.assign(new Error(`SSE refused: ${res.statusCode}`), { status: res.statusCode, headers: res.headers, body })));
          return;
        }
        resolve(new SseClient(req, res));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Events of the given SSE type. */
  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Stops reading from the socket (the server sees a slow reader). */
  pause(): void {
    this.response.pause();
  }

  resume(): void {
    this.response.resume();
  }

  /** Waits until `predicate` holds over the events received so far. */
  waitUntil(predicate: (events: SseEvent[]) => boolean, timeoutMs = 10000): Promise<void> {
    if (predicate(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (predicate(this.events)) {
          cleanup();
          resolve();
        } else if (this.ended) {
          cleanup();
          reject(new Error(`the stream ended first; ${this.events.length} events received`));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`condition not met within ${timeoutMs} ms; ${this.events.length} events received`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  /** Waits for the first event (from now on or already received) matching `predicate`. */
  async waitFor(predicate: (e: SseEvent) => boolean, timeoutMs = 10000): Promise<SseEvent> {
    await this.waitUntil((events) => events.some(predicate), timeoutMs);
    return this.events.find(predicate)!;
  }

  /** Waits for the server to end the stream. */
  async waitForEnd(timeoutMs = 10000): Promise<void> {
    await this.waitUntil(() => this.ended, timeoutMs).catch((error: Error) => {
      if (!this.ended) throw error;
    });
  }

  close(): void {
    this.req.destroy();
    this.response.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const e: SseEvent = { event: 'message', data: '' };
      const data: string[] = [];
      let isEvent = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments += 1;
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') {
          data.push(value);
          isEvent = true;
        } else if (field === 'event') e.event = value;
        else if (field === 'id') e.id = value;
      }
      if (isEvent) {
        e.data = data.join('\n');
        this.events.push(e);
      }
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}
