import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { AMPORA_CONFIG, AmporaConfig, DomainException, extractTraceContext, Metrics, RequestContext, SpanKind, startListening, TenantLabels, withSpan } from '@ampora/platform';
import { thumbprint } from '../domain/secrets';
import { FEDERATION_SECRET_HEADER, FEDERATION_TENANT_HEADER } from '../client/peer-client';
import { FederationIdentity, FederationIdentityService } from '../federation-identity.service';
import { PeersService } from '../peers.service';
import { InboundHandover } from './inbound-handover';
import { InboundLegs } from './inbound-legs';
import { InboundAnswer, InboundReads } from './inbound-reads';

const MAX_BODY_BYTES = 64 * 1024;

/** The request's JSON body (writes only), or a problem. */
async function bodyOf(req: IncomingMessage): Promise<{ body: unknown } | { problem: InboundAnswer }> {
  if (req.method === 'GET' || req.method === 'HEAD') return { body: undefined };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { problem: problem(413, 'FEDERATION_BODY_TOO_LARGE', `At most ${MAX_BODY_BYTES} bytes`) };
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { body: text ? JSON.parse(text) : undefined };
  } catch {
    return { problem: problem(400, 'FEDERATION_BAD_REQUEST', 'The body is not JSON') };
  }
}

function problem(status: number, code: string, detail: string): InboundAnswer {
  return { status, body: { type: 'about:blank', title: code, status, code, detail } };
}

/**
 * The federation listener (AMPORA_FEDERATION_PORT): HTTPS with this deployment's federation
 * certificate, a client certificate required and matched against the peers' pins, then the peer's
 * inbound secret (constant time) and the caller's tenant against the peer's tenant mapping. It starts
 * once a federation certificate exists and takes a new one without a restart.
 */
@Injectable()
export class FederationListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('federation');
  private server: Server | undefined;
  private unsubscribe: (() => void) | undefined;
  private servedId: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly identity: FederationIdentityService,
    private readonly peers: PeersService,
    private readonly reads: InboundReads,
    private readonly legs: InboundLegs,
    private readonly handovers: InboundHandover,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.federation.port === undefined) return;
    this.unsubscribe = this.identity.onChange((identity) => void this.serve(identity));
    await this.serve(await this.identity.current());
    // another instance may issue the certificate: looked for again every minute
    this.timer = setInterval(() => void this.identity.current().then((id) => this.serve(id)), 60_000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
    }
  }

  /** The port the listener is bound to (tests listen on 0), or undefined while it is not started. */
  port(): number | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? address.port : undefined;
  }

  private async serve(identity: FederationIdentity | null): Promise<void> {
    if (!identity || identity.id === this.servedId) return;
    this.servedId = identity.id;
    const tls = { cert: identity.certPem, key: identity.keyPem };
    if (this.server) {
      this.server.setSecureContext(tls);
      return;
    }
    const server = createServer({ ...tls, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' }, (req, res) => void this.onRequest(req, res));
    this.server = server;
    await startListening(server, { port: this.config.federation.port ?? 0, host: this.config.federation.host });
    this.log.log(`federation listener on ${this.config.federation.host}:${this.port()}`);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://federation.invalid');
    const parent = extractTraceContext(req.headers as Record<string, unknown>);
    let labels = { tenant: 'none', peer: 'unknown', direction: 'inbound' };
    let answer: InboundAnswer;
    try {
      answer = await withSpan('federation.inbound_call', { kind: SpanKind.SERVER, parent, attributes: { 'http.route': url.pathname } }, async (span) => {
        const der = (req.socket as TLSSocket).getPeerCertificate?.().raw as Buffer | undefined;
        if (!der) return problem(401, 'FEDERATION_UNKNOWN_CLIENT', 'A client certificate is required');
        const secret = req.headers[FEDERATION_SECRET_HEADER];
        const auth = await this.peers.authenticateInbound(thumbprint(der), typeof secret === 'string' ? secret : undefined);
        if (!auth.ok) {
          return auth.reason === 'secret'
            ? problem(401, 'FEDERATION_SECRET_MISMATCH', 'The federation secret does not match')
            : problem(401, 'FEDERATION_UNKNOWN_CLIENT', 'No active peer pins this client certificate');
        }
        const peer = auth.peer;
        labels = { tenant: TenantLabels.of(peer.tenantId), peer: peer.name, direction: 'inbound' };
        span.setAttribute('peer.name', peer.name);
        if (req.headers[FEDERATION_TENANT_HEADER] !== peer.remoteTenant) return problem(403, 'FEDERATION_TENANT_MISMATCH', 'The calling tenant is not the one this peer is paired with');
        const read = await bodyOf(req);
        if ('problem' in read) return read.problem;
        if (this.handovers.handles(url.pathname)) return RequestContext.run({ tenantId: peer.tenantId }, () => this.handovers.handle({ method: req.method ?? 'GET', path: url.pathname, body: read.body, peer, callerCertificateDer: der }));
        if (this.legs.handles(url.pathname)) return RequestContext.run({ tenantId: peer.tenantId }, () => this.legs.handle({ method: req.method ?? 'GET', path: url.pathname, body: read.body, peer }));
        return RequestContext.run({ tenantId: peer.tenantId }, () => this.reads.handle({ method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, peer }));
      });
    } catch (error) {
      if (error instanceof DomainException) answer = problem(error.status, error.code, error.message);
      else {
        this.log.error({ err: error }, 'federation request failed');
        answer = problem(500, 'FEDERATION_INTERNAL', 'The request failed');
      }
    }
    Metrics.add('ampora_federation_calls_total', 1, { ...labels, outcome: answer.status < 400 ? 'ok' : `http_${answer.status}` });
    Metrics.record('ampora_federation_call_duration_seconds', Number(process.hrtime.bigint() - started) / 1e9, labels);
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, { 'content-type': answer.status >= 400 ? 'application/problem+json' : 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
