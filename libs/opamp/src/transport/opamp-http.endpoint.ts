import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createGunzip, createInflate, gzipSync } from 'node:zlib';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, TimerHandle } from '@ampora/platform';
import type { AgentSession } from '../core/agent-session';
import type { ConnectionState, HandleResult } from '../core/connection-state';
import { OpampCore } from '../core/opamp-core.service';
import { ServerErrorResponseType } from '../generated/opamp_pb';
import { decodeAgentToServer, encodeServerToAgent, errorReply } from '../protocol/codec';
import { uidFromString } from '../protocol/instance-uid';
import { AgentAdmission, credentialKeyOf, refusalHeaders, STATUS_TEXT } from './agent-admission';
import { countInvalidUtf8, countRejected } from './frame-refusals';

export const PROTOBUF = 'application/x-protobuf';

/**
 * OpAMP over plain HTTP: a POST of `application/x-protobuf` (gzip or deflate allowed) on `/v1/opamp`
 * of the main port (mounted on Express) and of the TLS listener (which hands its requests here).
 * An agent keeps its session between polls; one that stops polling for a heartbeat window has left.
 */
@Injectable()
export class OpampHttpEndpoint implements OnModuleInit, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.Transport');
  private sweeper?: TimerHandle;

  constructor(
    private readonly core: OpampCore,
    private readonly admission: AgentAdmission,
    private readonly adapterHost: HttpAdapterHost,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** Mounted during module init: before Nest registers its not-found handler. */
  onModuleInit(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // an application context without HTTP (worker, CLI)
    const express = adapter.getInstance() as {
      use: (path: string, fn: (req: IncomingMessage, res: ServerResponse & { locals: Record<string, unknown> }, next: () => void) => void) => void;
    };
    express.use(this.config.opamp.path, (req, res, next) => {
      // Express strips the mount path; only the endpoint itself is OpAMP
      if (req.url !== '/' && !req.url?.startsWith('/?')) return next();
      res.locals.route = this.config.opamp.path;
      void this.handle(req, res);
    });
    this.sweeper = this.clock.setInterval(() => this.sweep(), Math.min(5000, this.config.opamp.heartbeatWindowSeconds * 250)).unref();
  }

  onModuleDestroy(): void {
    this.sweeper?.cancel();
  }

  /** One poll: refusals before the body is read, then the body, the core, and the answer. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      if (!this.admission.isAccepting) {
        res.writeHead(503, { 'retry-after': '30' }).end();
        return;
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== PROTOBUF) {
        countRejected('none', 'malformed');
        res.writeHead(415, { 'content-type': 'text/plain' }).end(`OpAMP over HTTP needs Content-Type: ${PROTOBUF}`);
        return;
      }
      const auth = await this.admission.admit(req, 'http');
      if (!auth.ok) {
        if (auth.status === 503) {
          res.writeHead(503, { 'retry-after': '30' }).end();
          return;
        }
        if (!auth.limited) countRejected(auth.tenantId, 'auth_failed');
        this.log.debug('Refused an HTTP agent ({Status}, retry after {RetryAfter} s): {Reason}', { Status: auth.status, RetryAfter: auth.retryAfter, Reason: auth.reason });
        req.resume();
        res.writeHead(auth.status, refusalHeaders(auth.status, auth.retryAfter)).end(STATUS_TEXT[auth.status]);
        return;
      }
      const state = auth.state;
      const body = await readBody(req, this.config.opamp.maxMessageBytes);
      if (body === 'oversize') {
        countRejected(state.credential.tenantId, 'oversize');
        res.writeHead(413, { connection: 'close' }).end();
        return;
      }
      if (body === 'unreadable') {
        countRejected(state.credential.tenantId, 'malformed');
        this.send(req, res, 400, errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'the body could not be decompressed'));
        return;
      }
      const decoded = decodeAgentToServer(body);
      if (!decoded.ok) {
        countRejected(state.credential.tenantId, 'malformed');
        this.send(req, res, 400, errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, `undecodable AgentToServer: ${decoded.reason}`));
        return;
      }
      if (decoded.invalidUtf8) countInvalidUtf8(state.credential.tenantId);
      const uid = decoded.message.instanceUid.length ? decoded.message.instanceUid : uidFromString(String(req.headers['opamp-instance-uid'] ?? '')) ?? decoded.message.instanceUid;
      decoded.message.instanceUid = uid;
      // An HTTP agent keeps its session between polls; its credential is bound to the agent again at
      // least every AMPORA_OPAMP_HTTP_RECHECK_SECONDS, so what attach refuses (a certificate now
      // required or revoked) reaches polling agents within that time too.
      const existing = this.core.registry.byInstanceUid(uid);
      const fresh = existing !== undefined && this.clock.nowMs() - existing.attachedAt < this.config.opamp.httpRecheckSeconds * 1000;
      if (existing && fresh && !existing.closed && existing.credentialKey === credentialKeyOf(state)) state.session = existing;
      const result = await this.core.handle(state, decoded.message, body.length);
      await this.finish(req, res, state, result);
    } catch (error) {
      this.log.error('OpAMP HTTP request failed', {}, error);
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  private async finish(req: IncomingMessage, res: ServerResponse, state: ConnectionState, result: HandleResult): Promise<void> {
    if (result.kind === 'reject') {
      countRejected(state.session?.tenantId ?? state.credential.tenantId, result.reason);
      if (result.reason === 'auth_failed') {
        const retryAfter = await this.admission.rememberRefusal(state);
        res.writeHead(401, { 'content-type': 'text/plain', ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}) }).end(result.message);
        return;
      }
      this.send(req, res, 400, result.reply ?? errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, result.message));
      return;
    }
    this.send(req, res, 200, result.reply);
  }

  private send(req: IncomingMessage, res: ServerResponse, status: number, message: Parameters<typeof encodeServerToAgent>[0]): void {
    let body: Buffer = Buffer.from(encodeServerToAgent(message));
    if (body.length > this.config.opamp.maxMessageBytes) {
      this.log.error('Dropped a ServerToAgent of {Bytes} bytes: above the message limit', { Bytes: body.length });
      res.writeHead(500).end();
      return;
    }
    const headers: Record<string, string> = { 'content-type': PROTOBUF };
    if (acceptsGzip(req.headers['accept-encoding'])) {
      body = gzipSync(body);
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = String(body.length);
    res.writeHead(status, headers).end(body);
  }

  /** HTTP agents have no socket: an agent that stops polling for a heartbeat window has left. */
  private sweep(): void {
    const cutoff = this.clock.nowMs() - this.config.opamp.heartbeatWindowSeconds * 1000;
    const idle: AgentSession[] = [];
    for (const s of this.core.registry.all()) if (s.transport === 'http' && s.lastSeen < cutoff) idle.push(s);
    for (const s of idle) this.core.end(s, new Date(s.lastSeen));
  }
}

/** Reads a request body, inflating gzip/deflate, and stops as soon as it exceeds `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'oversize' | 'unreadable'> {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let stream: Readable = req;
  if (encoding === 'gzip' || encoding === 'x-gzip') stream = req.pipe(createGunzip());
  else if (encoding === 'deflate') stream = req.pipe(createInflate());
  else if (encoding !== 'identity' && encoding !== '') return 'unreadable';
  const declared = Number(req.headers['content-length']);
  if (stream === req && Number.isFinite(declared) && declared > limit) {
    req.resume();
    return 'oversize';
  }
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      total += (chunk as Buffer).length;
      if (total > limit) {
        stream.destroy();
        req.resume();
        return 'oversize';
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return 'unreadable';
  }
  return Buffer.concat(chunks, total);
}

/** True when Accept-Encoding allows gzip (q-values honoured). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (!header) return false;
  const value = Array.isArray(header) ? header.join(',') : header;
  for (const part of value.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}
