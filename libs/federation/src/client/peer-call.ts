import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import { connect, TLSSocket } from 'node:tls';
import { thumbprint } from '../domain/secrets';

/** Which factor of a peer call failed (decision 0311): the TLS session, the pin, the secret, the time budget, an open circuit, or the HTTP answer. */
export type CallFactor = 'tls' | 'thumbprint' | 'secret' | 'timeout' | 'circuit' | 'http';

export class PeerCallError extends Error {
  constructor(
    readonly factor: CallFactor,
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }

  /** Worth another attempt inside the budget: a failed connection or a 5xx (never a pin or secret failure). */
  get retryable(): boolean {
    return this.factor === 'tls' || (this.factor === 'http' && (this.status ?? 0) >= 500);
  }
}

export interface RawCall {
  url: URL;
  certPem: string;
  keyPem: string;
  pinnedThumbprint: string;
  headers: Record<string, string>;
  timeoutMs: number;
  method?: string;
  body?: string;
}

export interface RawAnswer {
  status: number;
  body: unknown;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;

function tlsFailure(error: NodeJS.ErrnoException): PeerCallError {
  const what = error.code === 'ECONNREFUSED' ? 'connection refused' : error.code === 'ECONNRESET' ? 'connection reset' : error.message;
  return new PeerCallError('tls', `TLS session with the peer failed: ${what}`);
}

/**
 * One HTTPS request to a peer's federation listener: a TLS session with this deployment's federation
 * certificate as client certificate, the server's certificate checked against the pin *before* any
 * byte of the request (with the secret) is sent, then the request on that socket. Everything within
 * `timeoutMs`.
 */
export function rawPeerCall(call: RawCall): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    let socket: TLSSocket | undefined;
    let settled = false;
    const finish = (error: PeerCallError | undefined, answer?: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // one request per session: the socket is not reused
      socket?.destroy();
      if (error) {
        reject(error);
      } else {
        resolve(answer!);
      }
    };
    const timer = setTimeout(() => finish(new PeerCallError('timeout', `the peer did not answer within ${call.timeoutMs} ms`)), call.timeoutMs);
    const host = call.url.hostname.replace(/^\[|\]$/g, '');
    socket = connect({
      host,
      port: Number(call.url.port || 443),
      cert: call.certPem,
      key: call.keyPem,
      // trust is the pin, not a CA (peers usually have unrelated CAs, spec §7.2)
      rejectUnauthorized: false,
      ...(isIP(host) ? {} : { servername: host }),
      minVersion: 'TLSv1.2',
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish(tlsFailure(error)));
    socket.once('secureConnect', () => {
      const der = socket!.getPeerCertificate().raw as Buffer | undefined;
      const presented = der ? thumbprint(der) : '';
      if (presented !== call.pinnedThumbprint) {
        finish(new PeerCallError('thumbprint', `the peer presented a certificate with thumbprint ${presented || '(none)'}, not the pinned one`));
        return;
      }
      const req = httpRequest(
        {
          createConnection: () => socket!,
          method: call.method ?? 'GET',
          path: `${call.url.pathname}${call.url.search}`,
          headers: { host: call.url.host, accept: 'application/json', connection: 'close', ...call.headers, ...(call.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(call.body)) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) finish(new PeerCallError('http', 'the peer\'s answer is too large'));
            else chunks.push(chunk);
          });
          res.on('error', (error) => finish(tlsFailure(error)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            try {
              body = text ? JSON.parse(text) : null;
            } catch {
              // not JSON: kept as text
            }
            finish(undefined, { status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => finish(tlsFailure(error)));
      req.end(call.body);
    });
  });
}
