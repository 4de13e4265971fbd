import http from 'node:http';

export interface RawResponse {
  status: number;
  contentType: string;
  body: string;
  json?: Record<string, unknown>;
  ms: number;
}

/** Sends exact bytes (any content type, broken encodings included) and times the answer. */
export function rawRequest(url: string, options: { method?: string; body: Buffer | string; contentType: string; token?: string; timeoutMs?: number }): Promise<RawResponse> {
  const body = typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : options.body;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': options.contentType, 'content-length': body.length };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const req = http.request(url, { method: options.method ?? 'POST', headers, timeout: options.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: text, json, ms: performance.now() - started });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    // the server may answer (413, 415) and close before reading everything
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(body);
  });
}
