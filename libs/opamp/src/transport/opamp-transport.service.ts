import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Readable } from 'node:stream';
import { createGunzip, createInflate, gzipSync } from 'node:zlib';
import { WebSocket, WebSocketServer } from 'ws';
import { AMPORA_CONFIG, AmporaConfig, createLogger, HealthService, Metrics, TenantLabels } from '@ampora/platform';
import { ServerErrorResponseType } from '../generated/opamp_pb';
import { AgentSession } from '../core/agent-session';
import { ConnectionState, HandleResult, OpampCore } from '../core/opamp-core.service';
import { SessionLeaseKeeper } from '../ownership/session-lease-keeper';
import {
  CLIENT_CERTIFICATE_VERIFIER,
  ClientCertificate,
  ClientCertificateVerifier,
  ConnectInput,
  LISTENER_CERTIFICATE_ISSUER,
  ListenerCertificateIssuer,
  MtlsTarget,
  Transport,
} from '../ports';
import { decodeAgentToServer, encodeServerToAgent, errorReply } from '../protocol/codec';
import { decodeWsFrame, encodeWsFrame } from '../protocol/framing';
import { uidFromString } from '../protocol/instance-uid';
import { certificateCovers, hostOf, listenerTrust } from './listener-trust';
import { mtlsEndpoint } from './mtls-endpoint';
import { RefusalMemory } from './refusal-memory';
import { refusalKey, retryAfterSeconds } from './refusal-policy';

export const PROTOBUF = 'application/x-protobuf';
type RejectReason = 'oversize' | 'malformed' | 'cap_mismatch' | 'auth_failed';

/** How a connection was admitted or refused before its first frame. */
type Admission =
  | { ok: true; state: ConnectionState }
  | { ok: false; status: 401 | 403 | 429; retryAfter: number; reason: string; tenantId?: string };

/**
 * Both OpAMP transports on `/v1/opamp`: WebSocket (binary frames with the varint header) and plain
 * HTTP POST of `application/x-protobuf`, on the main HTTP port and, when configured, on a TLS port
 * that asks for client certificates. Everything protocol-level happens in OpampCore.
 */
@Injectable()
export class OpampTransportService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = createLogger('Ampora.OpAmp.Transport');
  private readonly wss: WebSocketServer;
  private tlsServer?: HttpsServer;
  /** The listener's own certificate, and the PEM certificates that verify it (sent with certificate offers). */
  private listenerLeaf?: X509Certificate;
  private listenerTrustPem?: string;
  private listenerRenewal?: NodeJS.Timeout;
  private sweeper?: NodeJS.Timeout;
  private pinger?: NodeJS.Timeout;
  private accepting = true;
  private readonly alive = new WeakMap<WebSocket, boolean>();
  /** What each admitted connection's refusals are remembered by (credential and source). */
  private readonly refusalKeys = new WeakMap<ConnectionState, string>();

  private verifier?: ClientCertificateVerifier;

  constructor(
    private readonly core: OpampCore,
    private readonly adapterHost: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly leases: SessionLeaseKeeper,
    private readonly health: HealthService,
    private readonly refusals: RefusalMemory,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: config.opamp.maxMessageBytes, perMessageDeflate: false, clientTracking: true });
  }

  /** Mounted during module init: before Nest registers its not-found handler. */
  onModuleInit(): void {
    // the certificate verifier (PKI) may be provided by any module of the application
    try {
      this.verifier = this.moduleRef.get<ClientCertificateVerifier>(CLIENT_CERTIFICATE_VERIFIER, { strict: false });
    } catch {
      this.verifier = undefined;
    }
    const adapter = this.adapterHost.httpAdapter;
    if (!adapter) return; // an application context without HTTP (worker, CLI)
    const express = adapter.getInstance() as {
      use: (path: string, fn: (req: IncomingMessage, res: ServerResponse & { locals: Record<string, unknown> }, next: () => void) => void) => void;
    };
    express.use(this.config.opamp.path, (req, res, next) => {
      // Express strips the mount path; only the endpoint itself is OpAMP
      if (req.url !== '/' && !req.url?.startsWith('/?')) return next();
      res.locals.route = this.config.opamp.path;
      void this.onHttpRequest(req, res);
    });
    const server = adapter.getHttpServer() as HttpServer;
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.sweeper = setInterval(() => this.sweep(), Math.min(5000, this.config.opamp.heartbeatWindowSeconds * 250));
    this.sweeper.unref();
    this.pinger = setInterval(() => this.ping(), 30_000);
    this.pinger.unref();
  }

  /** The TLS listener starts once every module is ready: its certificate may come from Ampora's CA. */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.adapterHost.httpAdapter) return;
    await this.startTls();
  }

  /** The TLS listener's port (useful when configured as 0). */
  get tlsPort(): number | undefined {
    return (this.tlsServer?.address() as AddressInfo | null)?.port;
  }

  /** Stops taking new agents (graceful shutdown); existing sessions stay until closed. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Closes every WebSocket so agents reconnect (elsewhere), and waits (bounded) for the closes. */
  async drain(code = 1012, reason = 'server restarting', waitMs = 1000): Promise<void> {
    const clients = [...this.wss.clients];
    const closed = clients.map((ws) => new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r()))));
    for (const ws of clients) ws.close(code, reason);
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /**
   * Graceful shutdown: readiness goes down, no new agents, the leases are released, and every
   * WebSocket is closed with 1001 (going away) so its agent reconnects to another instance at once
   * and takes its lease there without waiting for it to expire. The server's main closes the
   * sessions itself after its drain window (see onStopSignals); this is what is left by then.
   */
  async onModuleDestroy(): Promise<void> {
    this.accepting = false;
    this.health.startDraining();
    clearInterval(this.sweeper);
    clearInterval(this.pinger);
    clearTimeout(this.listenerRenewal);
    await this.leases.releaseAll();
    await this.drain(1001, 'server shutting down');
    // record every agent as disconnected before the state writer's final flush
    this.core.endAll();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    if (this.tlsServer) await new Promise<void>((r) => this.tlsServer!.close(() => r()));
  }

  // ---- TLS listener ---------------------------------------------------------------------------

  private async startTls(): Promise<void> {
    const { tlsPort, tlsCertFile, tlsKeyFile, tlsCaFile } = this.config.opamp;
    const caFile = tlsCaFile ? readFileSync(tlsCaFile, 'utf8') : undefined;
    if (tlsPort === undefined) {
      // no listener here (another process serves mTLS): the operator's CA file alone is the trust to offer
      this.listenerTrustPem = caFile;
      return;
    }
    let material: { cert: string; key: string };
    if (tlsCertFile && tlsKeyFile) {
      material = { cert: readFileSync(tlsCertFile, 'utf8'), key: readFileSync(tlsKeyFile, 'utf8') };
      const trust = listenerTrust(material.cert, caFile);
      if ('problem' in trust) {
        this.log.warn('No certificate offers: agents could not verify the TLS listener they would be sent to ({Problem})', { Problem: trust.problem });
      } else this.listenerTrustPem = trust.trustPem;
    } else {
      const issued = await this.issueListenerCertificate();
      if (!issued) return;
      material = issued;
    }
    this.listenerLeaf = new X509Certificate(material.cert);
    const mtlsHost = this.config.opamp.mtlsUrl ? hostOf(new URL(this.config.opamp.mtlsUrl).host) : undefined;
    if (mtlsHost && !certificateCovers(this.listenerLeaf, mtlsHost)) {
      this.log.warn('The TLS listener\'s certificate is not valid for {Host} (AMPORA_OPAMP_MTLS_URL): agents sent there will refuse it', { Host: mtlsHost });
    }
    this.tlsServer = createHttpsServer(
      { cert: material.cert, key: material.key, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
      (req, res) => {
        const path = (req.url ?? '').split('?')[0];
        if (path !== this.config.opamp.path) {
          res.writeHead(404).end();
          return;
        }
        void this.onHttpRequest(req, res);
      },
    );
    this.tlsServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.onUpgrade(req, socket, head));
    this.tlsServer.on('tlsClientError', (err) => this.log.debug('TLS handshake failed: {Error}', { Error: err.message }));
    await new Promise<void>((resolve, reject) => {
      this.tlsServer!.once('error', reject);
      this.tlsServer!.listen(tlsPort, this.config.http.host, () => {
        this.tlsServer!.off('error', reject);
        resolve();
      });
    });
    this.log.info('OpAMP TLS listener on port {Port} asks for client certificates', { Port: this.tlsPort });
  }

  /**
   * No certificate from the operator: Ampora's CA issues the listener's server certificate (for
   * AMPORA_OPAMP_TLS_HOSTNAMES), renewed in memory at half its life (decision 0120). Offers then carry
   * that CA, which is all an agent needs to verify the listener.
   */
  private async issueListenerCertificate(): Promise<{ cert: string; key: string } | undefined> {
    let issuer: ListenerCertificateIssuer | undefined;
    try {
      issuer = this.moduleRef.get<ListenerCertificateIssuer>(LISTENER_CERTIFICATE_ISSUER, { strict: false });
    } catch {
      issuer = undefined;
    }
    if (!issuer) {
      this.log.error('AMPORA_OPAMP_TLS_PORT is set without AMPORA_OPAMP_TLS_CERT_FILE and no CA can issue one: the TLS listener is off');
      return undefined;
    }
    try {
      const issued = await issuer.issueListenerCertificate(this.config.opamp.tlsHostnames);
      this.listenerTrustPem = issued.caPem;
      const renewIn = Math.min(2 ** 31 - 1, Math.max(60_000, (issued.notAfter.getTime() - Date.now()) / 2));
      this.listenerRenewal = setTimeout(() => void this.renewListenerCertificate(issuer), renewIn);
      this.listenerRenewal.unref();
      this.log.info('Ampora\'s CA issued the TLS listener\'s certificate for {Hostnames}, until {NotAfter}', { Hostnames: this.config.opamp.tlsHostnames.join(', '), NotAfter: issued.notAfter.toISOString() });
      return { cert: issued.certPem, key: issued.keyPem };
    } catch (error) {
      this.log.error('Ampora\'s CA could not issue the TLS listener\'s certificate: the TLS listener is off', {}, error);
      return undefined;
    }
  }

  private async renewListenerCertificate(issuer: ListenerCertificateIssuer): Promise<void> {
    try {
      const issued = await issuer.issueListenerCertificate(this.config.opamp.tlsHostnames);
      this.tlsServer?.setSecureContext({ cert: issued.certPem, key: issued.keyPem, minVersion: 'TLSv1.2' });
      this.listenerLeaf = new X509Certificate(issued.certPem);
      this.listenerTrustPem = issued.caPem;
      const renewIn = Math.min(2 ** 31 - 1, Math.max(60_000, (issued.notAfter.getTime() - Date.now()) / 2));
      this.listenerRenewal = setTimeout(() => void this.renewListenerCertificate(issuer), renewIn);
    } catch (error) {
      this.log.error('Could not renew the TLS listener\'s certificate; trying again in an hour', {}, error);
      this.listenerRenewal = setTimeout(() => void this.renewListenerCertificate(issuer), 3_600_000);
    }
    this.listenerRenewal.unref();
  }

  /**
   * Where a certificate offered on this connection sends the agent (decision 0121): AMPORA_OPAMP_MTLS_URL,
   * or else this TLS listener under a name its certificate is valid for (the name the agent used to
   * reach us, then AMPORA_OPAMP_TLS_HOSTNAMES, then AMPORA_PUBLIC_URL's host), in the scheme of the
   * agent's transport. Undefined when no such place exists or agents could not verify it.
   */
  private mtlsTarget(req: IncomingMessage, transport: Transport): MtlsTarget | undefined {
    const trust = this.listenerTrustPem;
    if (!trust) return undefined;
    const configured = mtlsEndpoint(this.config.opamp.mtlsUrl, transport);
    if (configured) return { endpoint: configured, serverCaPem: trust };
    const leaf = this.listenerLeaf;
    const port = this.tlsPort;
    if (!leaf || !port) return undefined;
    const candidates = [hostOf(req.headers.host), ...this.config.opamp.tlsHostnames, hostOf(new URL(this.config.app.publicUrl).host)];
    const host = candidates.find((h): h is string => Boolean(h) && certificateCovers(leaf, h!));
    if (!host) return undefined;
    const shown = host.includes(':') ? `[${host}]` : host;
    return { endpoint: `${transport === 'http' ? 'https' : 'wss'}://${shown}:${port}${this.config.opamp.path}`, serverCaPem: trust };
  }

  // ---- authentication -------------------------------------------------------------------------

  /** The client certificate the peer presented on the TLS listener (not verified yet), if any. */
  private peerCertificate(req: IncomingMessage): ClientCertificate | undefined {
    const tls = req.socket as TLSSocket;
    if (typeof tls.getPeerCertificate !== 'function') return undefined;
    const peer = tls.getPeerCertificate(true);
    if (!peer || !peer.raw) return undefined;
    const chain: Buffer[] = [];
    let issuer = peer.issuerCertificate;
    while (issuer && issuer.raw && issuer !== issuer.issuerCertificate && chain.length < 8) {
      chain.push(issuer.raw);
      issuer = issuer.issuerCertificate;
    }
    return { der: peer.raw, fingerprint: createHash('sha256').update(peer.raw).digest('hex'), chain };
  }

  private async connectInput(req: IncomingMessage, transport: Transport, certificate: ClientCertificate | undefined): Promise<{ ok: true; input: ConnectInput } | { ok: false; reason: string; forbidden?: boolean }> {
    const input: ConnectInput = { transport, headers: req.headers, remoteAddress: req.socket.remoteAddress };
    if (certificate) {
      if (!this.verifier) return { ok: false, reason: 'client certificates are not accepted: no CA is configured' };
      const verdict = await this.verifier.verify(certificate);
      if (!verdict.ok) return { ok: false, reason: `client certificate refused: ${verdict.reason}`, forbidden: verdict.reason.startsWith('revoked') };
      input.clientCertificate = certificate;
    }
    return { ok: true, input };
  }

  /**
   * Admits a connection or refuses it before the upgrade (decision 0120): a credential and source
   * refused recently are answered 429 without looking at the credential again; a credential refused
   * now is answered 401 (403 when known but not allowed) and remembered; both carry Retry-After.
   */
  private async admit(req: IncomingMessage, transport: Transport): Promise<Admission> {
    const certificate = this.peerCertificate(req);
    const key = refusalKey(req.headers, certificate?.fingerprint, req.socket.remoteAddress);
    const now = Date.now();
    const block = await this.refusals.blocked(key, now);
    if (block) return { ok: false, status: 429, retryAfter: retryAfterSeconds(block.until - now), reason: `refused ${block.strikes} time(s) recently: wait` };
    const prepared = await this.connectInput(req, transport, certificate);
    const outcome = prepared.ok ? await this.core.authenticatorPort.authenticate(prepared.input) : prepared;
    if (!outcome.ok) {
      const tenantId = 'tenantId' in outcome ? (outcome.tenantId as string | undefined) : undefined;
      const strike = await this.refusals.strike(key, now);
      return { ok: false, status: outcome.forbidden ? 403 : 401, retryAfter: retryAfterSeconds(strike.until - now), reason: outcome.reason, tenantId };
    }
    const state: ConnectionState = { handle: { id: randomUUID(), transport }, credential: outcome.credential, mtls: this.mtlsTarget(req, transport) };
    this.refusalKeys.set(state, key);
    return { ok: true, state };
  }

  /** A refusal on the first frame (attach): remembered, so the next attempts are refused at the upgrade. */
  private async rememberRefusal(state: ConnectionState): Promise<number | undefined> {
    const key = this.refusalKeys.get(state);
    if (!key) return undefined;
    const now = Date.now();
    const strike = await this.refusals.strike(key, now);
    return strike.strikes > 0 ? retryAfterSeconds(strike.until - now) : undefined;
  }

  // ---- plain HTTP -----------------------------------------------------------------------------

  private async onHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      if (!this.accepting) {
        res.writeHead(503, { 'retry-after': '30' }).end();
        return;
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== PROTOBUF) {
        this.reject('none', 'malformed');
        res.writeHead(415, { 'content-type': 'text/plain' }).end(`OpAMP over HTTP needs Content-Type: ${PROTOBUF}`);
        return;
      }
      const auth = await this.admit(req, 'http');
      if (!auth.ok) {
        this.reject(auth.tenantId, 'auth_failed');
        this.log.debug('Refused an HTTP agent ({Status}, retry after {RetryAfter} s): {Reason}', { Status: auth.status, RetryAfter: auth.retryAfter, Reason: auth.reason });
        req.resume();
        res.writeHead(auth.status, refusalHeaders(auth.status, auth.retryAfter)).end(STATUS_TEXT[auth.status]);
        return;
      }
      const state = auth.state;
      const body = await readBody(req, this.config.opamp.maxMessageBytes);
      if (body === 'oversize') {
        this.reject(state.credential.tenantId, 'oversize');
        res.writeHead(413, { connection: 'close' }).end();
        return;
      }
      if (body === 'unreadable') {
        this.reject(state.credential.tenantId, 'malformed');
        this.sendHttp(req, res, 400, errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'the body could not be decompressed'));
        return;
      }
      const decoded = decodeAgentToServer(body);
      if (!decoded.ok) {
        this.reject(state.credential.tenantId, 'malformed');
        this.sendHttp(req, res, 400, errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, `undecodable AgentToServer: ${decoded.reason}`));
        return;
      }
      if (decoded.invalidUtf8) this.invalidUtf8(state.credential.tenantId);
      const uid = decoded.message.instanceUid.length ? decoded.message.instanceUid : uidFromString(String(req.headers['opamp-instance-uid'] ?? '')) ?? decoded.message.instanceUid;
      decoded.message.instanceUid = uid;
      // An HTTP agent keeps its session between polls; its credential is bound to the agent again at
      // least every AMPORA_OPAMP_HTTP_RECHECK_SECONDS, so what attach refuses (a certificate now
      // required or revoked) reaches polling agents within that time too.
      const existing = this.core.registry.byInstanceUid(uid);
      const fresh = existing !== undefined && Date.now() - existing.attachedAt < this.config.opamp.httpRecheckSeconds * 1000;
      if (existing && fresh && !existing.closed && existing.credentialKey === credentialKeyOf(state)) state.session = existing;
      const result = await this.core.handle(state, decoded.message, body.length);
      await this.finishHttp(req, res, state, result);
    } catch (error) {
      this.log.error('OpAMP HTTP request failed', {}, error);
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  private async finishHttp(req: IncomingMessage, res: ServerResponse, state: ConnectionState, result: HandleResult): Promise<void> {
    if (result.kind === 'reject') {
      this.reject(state.session?.tenantId ?? state.credential.tenantId, result.reason);
      if (result.reason === 'auth_failed') {
        const retryAfter = await this.rememberRefusal(state);
        res.writeHead(401, { 'content-type': 'text/plain', ...(retryAfter ? { 'retry-after': String(retryAfter) } : {}) }).end(result.message);
        return;
      }
      this.sendHttp(req, res, 400, result.reply ?? errorReply(new Uint8Array(), ServerErrorResponseType.ServerErrorResponseType_BadRequest, result.message));
      return;
    }
    this.sendHttp(req, res, 200, result.reply);
  }

  private sendHttp(req: IncomingMessage, res: ServerResponse, status: number, message: Parameters<typeof encodeServerToAgent>[0]): void {
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

  // ---- WebSocket ------------------------------------------------------------------------------

  private onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== this.config.opamp.path) {
      socket.destroy();
      return;
    }
    void (async () => {
      try {
        if (!this.accepting) return refuseUpgrade(socket, 503, 'Service Unavailable', 30);
        const auth = await this.admit(req, 'ws');
        if (!auth.ok) {
          this.reject(auth.tenantId, 'auth_failed');
          this.log.debug('Refused a WebSocket agent ({Status}, retry after {RetryAfter} s): {Reason}', { Status: auth.status, RetryAfter: auth.retryAfter, Reason: auth.reason });
          return refuseUpgrade(socket, auth.status, STATUS_TEXT[auth.status], auth.retryAfter);
        }
        this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, auth.state));
      } catch (error) {
        this.log.error('OpAMP upgrade failed', {}, error);
        refuseUpgrade(socket, 500, 'Internal Server Error');
      }
    })();
  }

  private onSocket(ws: WebSocket, state: ConnectionState): void {
    this.alive.set(ws, true);
    state.handle = {
      id: state.handle.id,
      transport: 'ws',
      send: (message) => {
        if (ws.readyState !== WebSocket.OPEN) return false;
        const frame = encodeWsFrame(encodeServerToAgent(message));
        if (frame.length > this.config.opamp.maxMessageBytes) {
          this.log.error('Dropped a ServerToAgent of {Bytes} bytes: above the message limit', { Bytes: frame.length });
          return false;
        }
        ws.send(frame, { binary: true });
        return true;
      },
      close: (code, reason) => ws.close(code, reason),
    };
    let chain: Promise<void> = Promise.resolve();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      chain = chain.then(() => this.onWsMessage(ws, state, data, isBinary)).catch((error: unknown) => this.log.error('OpAMP frame handling failed', {}, error));
    });
    ws.on('pong', () => this.alive.set(ws, true));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.reject(state.session?.tenantId ?? state.credential.tenantId, 'oversize');
      else this.log.debug('WebSocket error: {Error}', { Error: error.message });
    });
    ws.on('close', () => {
      void chain.then(() => {
        if (state.session) this.core.end(state.session, new Date());
      });
    });
  }

  private async onWsMessage(ws: WebSocket, state: ConnectionState, data: Buffer, isBinary: boolean): Promise<void> {
    const tenantId = state.session?.tenantId ?? state.credential.tenantId;
    const uid = state.session?.instanceUid ?? new Uint8Array();
    if (!isBinary) {
      this.reject(tenantId, 'malformed');
      state.handle.send!(errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'OpAMP needs binary frames; text frames are refused'));
      return;
    }
    const frame = decodeWsFrame(data);
    const decoded = frame.ok ? decodeAgentToServer(frame.payload) : { ok: false as const, reason: frame.reason };
    if (!decoded.ok) {
      this.reject(tenantId, 'malformed');
      state.handle.send!(errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `undecodable AgentToServer: ${decoded.reason}`));
      return;
    }
    if (decoded.invalidUtf8) this.invalidUtf8(tenantId);
    const result = await this.core.handle(state, decoded.message, data.length);
    if (result.kind === 'reject') {
      this.reject(state.session?.tenantId ?? tenantId, result.reason);
      if (result.reason === 'auth_failed') {
        // remembered before the close: opamp-go reconnects at once, and that attempt is refused 429
        await this.rememberRefusal(state);
        ws.close(1008, 'not authorized for this agent');
        return;
      }
      state.handle.send!(result.reply ?? errorReply(decoded.message.instanceUid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, result.message));
      return;
    }
    state.handle.send!(result.reply);
    if (result.closeAfter) ws.close(1000, 'agent disconnected');
  }

  // ---- housekeeping ---------------------------------------------------------------------------

  private reject(tenantId: string | undefined, reason: RejectReason): void {
    Metrics.add('ampora_opamp_frames_rejected_total', 1, { tenant: TenantLabels.of(tenantId), reason });
  }

  /** A frame whose strings were not all UTF-8 was decoded with U+FFFD in their place (and is handled). */
  private invalidUtf8(tenantId: string | undefined): void {
    Metrics.add('ampora_opamp_strings_neutralised_total', 1, { tenant: TenantLabels.of(tenantId), reason: 'invalid_utf8' });
  }

  /** HTTP agents have no socket: an agent that stops polling for a heartbeat window has left. */
  private sweep(): void {
    const cutoff = Date.now() - this.config.opamp.heartbeatWindowSeconds * 1000;
    const idle: AgentSession[] = [];
    for (const s of this.core.registry.all()) if (s.transport === 'http' && s.lastSeen < cutoff) idle.push(s);
    for (const s of idle) this.core.end(s, new Date(s.lastSeen));
  }

  private ping(): void {
    for (const ws of this.wss.clients) {
      if (this.alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      this.alive.set(ws, false);
      ws.ping();
    }
  }
}

function credentialKeyOf(state: ConnectionState): string {
  const c = state.credential;
  return c.kind === 'bootstrap' ? `bs:${c.tokenId}` : `cert:${c.fingerprint}`;
}

const STATUS_TEXT: Record<401 | 403 | 429, string> = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests' };

function refusalHeaders(status: number, retryAfter: number | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'text/plain' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (retryAfter) headers['retry-after'] = String(retryAfter);
  return headers;
}

function refuseUpgrade(socket: Socket, status: number, text: string, retryAfter?: number): void {
  if (socket.destroyed) return;
  const extra = `${status === 401 ? 'WWW-Authenticate: Bearer\r\n' : ''}${retryAfter ? `Retry-After: ${retryAfter}\r\n` : ''}`;
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
  socket.destroy();
}

/** Reads a request body, inflating gzip/deflate, and stops as soon as it exceeds `limit` bytes. */
async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'oversize' | 'unreadable'> {
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
