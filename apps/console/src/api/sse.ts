/** One event of GET /api/live: its SSE id and type, and the JSON data `{ id, type, tenantId, entityId, at, origin, payload }`. */
export interface LiveEvent {
  id: string;
  type: string;
  entityId?: string | null;
  at?: string;
  payload?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * An incremental Server-Sent Events parser: feed it text chunks as they arrive, it calls `onEvent`
 * for every complete event (blank-line terminated). Comments (`:`) are keep-alives and ignored.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id = '';

  constructor(private readonly onEvent: (e: { id: string; event: string; data: string }) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      const width = this.buffer.startsWith('\r\n', nl) ? 2 : 1;
      this.buffer = this.buffer.slice(nl + width);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length) this.onEvent({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
      this.data = [];
      this.event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
  }
}

export interface LiveSubscription {
  close(): void;
}

/**
 * Subscribes to GET /api/live with the bearer token in a header (EventSource cannot send one, and a
 * token never goes in the URL): a fetch stream, resumed with Last-Event-ID after a dropped connection.
 */
export function subscribeLive(
  token: string,
  onEvent: (e: LiveEvent) => void,
  options: { types?: string[]; onStatus?: (connected: boolean) => void; retryMs?: number; fetchImpl?: typeof fetch } = {},
): LiveSubscription {
  const controller = new AbortController();
  let lastEventId = '';
  let closed = false;
  const doFetch = options.fetchImpl ?? fetch;
  const run = async (): Promise<void> => {
    while (!closed) {
      try {
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
        if (lastEventId) headers['last-event-id'] = lastEventId;
        const q = options.types?.length ? `?${options.types.map((t) => `types=${encodeURIComponent(t)}`).join('&')}` : '';
        const res = await doFetch(`/api/live${q}`, { headers, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`live stream answered ${res.status}`);
        options.onStatus?.(true);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser((raw) => {
          if (raw.id) lastEventId = raw.id;
          try {
            const data = JSON.parse(raw.data) as LiveEvent;
            onEvent({ ...data, id: raw.id || data.id, type: raw.event !== 'message' ? raw.event : data.type });
          } catch {
            // not JSON: not one of ours
          }
        });
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } catch {
        if (closed) return;
      }
      options.onStatus?.(false);
      if (!closed) await new Promise((r) => setTimeout(r, options.retryMs ?? 2000));
    }
  };
  void run();
  return {
    close() {
      closed = true;
      controller.abort();
    },
  };
}
