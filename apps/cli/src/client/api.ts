import { CliError, ExitCode } from './exit-codes';
import type { Target } from './context';

/** An error answer of the API (application/problem+json), with the exit code it means for the CLI. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly problem: { code?: string; title?: string; detail?: string; [k: string]: unknown },
    what: string,
  ) {
    super(`${what}: ${problem.detail ?? problem.title ?? `HTTP ${status}`}${problem.code ? ` (${problem.code})` : ''}`, exitCodeForStatus(status, problem.code));
  }
}

/** 400 and 422 (the server refused the content: validation, a policy) are 3; everything else 1. */
export function exitCodeForStatus(status: number, code?: string): ExitCode {
  if (status === 400 || status === 422 || (code !== undefined && /DENIED_BY_POLICY|VALIDATION|INVALID/.test(code))) return ExitCode.Denied;
  return ExitCode.Failed;
}

export interface LiveEvent {
  id?: string;
  type: string;
  entityId?: string;
  payload?: unknown;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

/** The REST API of one Ampora server, over fetch. */
export class ApiClient {
  constructor(readonly target: Target) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: 'application/json', ...(this.target.token ? { authorization: `Bearer ${this.target.token}` } : {}), ...extra };
  }

  /** The raw answer (status and parsed body), for callers that handle some error statuses. */
  async send(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    let res: Response;
    try {
      res = await fetch(`${this.target.url}${path}`, {
        method,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new CliError(`cannot reach ${this.target.url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text
    }
    return { status: res.status, body: parsed };
  }

  async call<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.send(method, path, body);
    if (r.status >= 400) throw this.error(method, path, r);
    return r.body as T;
  }

  error(method: string, path: string, r: { status: number; body: any }): ApiError {
    const problem = r.body && typeof r.body === 'object' ? r.body : { detail: typeof r.body === 'string' && r.body ? r.body.slice(0, 300) : undefined };
    if (r.status === 401) problem.detail = `${problem.detail ?? 'unauthorized'}; give a token (AMPORA_TOKEN, or ampora login)`;
    return new ApiError(r.status, problem, `${method} ${path}`);
  }

  get = <T = any>(path: string) => this.call<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.call<T>('POST', path, body ?? {});

  /** Every item of a paged list (following nextCursor), at most `max`. */
  async listAll<T = any>(path: string, max = 10_000): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null | undefined;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page = await this.get<Page<T>>(`${path}${sep}limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && out.length < max);
    return out;
  }

  /**
   * GET /api/live as Server-Sent Events: calls `onEvent` per event until `signal` aborts (or the
   * stream ends, which resolves).
   */
  async live(types: string[], onEvent: (e: LiveEvent) => void, signal: AbortSignal): Promise<void> {
    const query = types.length ? `?types=${encodeURIComponent(types.join(','))}` : '';
    let res: Response;
    try {
      res = await fetch(`${this.target.url}/api/live${query}`, { headers: this.headers({ accept: 'text/event-stream' }), signal });
    } catch (e) {
      if (signal.aborted) return;
      throw new CliError(`cannot open the live stream: ${(e as Error).message}`);
    }
    if (res.status >= 400 || !res.body) throw this.error('GET', '/api/live', { status: res.status, body: await res.text().catch(() => '') });
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trimStart())
            .join('\n');
          if (!data) continue;
          try {
            onEvent(JSON.parse(data) as LiveEvent);
          } catch {
            // a control line that is not JSON: ignored
          }
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    }
  }
}
