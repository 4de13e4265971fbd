import { Inject, INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageMappingProperties, OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, TimerHandle } from '@ampora/platform';
import type { ConnectionState } from '../core/connection-state';
import { OpampCore } from '../core/opamp-core.service';
import { ServerErrorResponseType } from '../generated/opamp_pb';
import { decodeAgentToServer, encodeServerToAgent, errorReply } from '../protocol/codec';
import { decodeWsFrame, encodeWsFrame } from '../protocol/framing';
import { AgentAdmission, refusalHeaders, STATUS_TEXT } from './agent-admission';
import { countInvalidUtf8, countRejected, tenantOf } from './frame-refusals';

/** The OpAMP endpoint's path on both listeners. */
export const OPAMP_PATH = '/v1/opamp';
/** The one message the OpAMP WebSocket adapter gives gateways: every frame (see OpampWsAdapter). */
export const OPAMP_FRAME = 'opamp.frame';

/**
 * Nest's WsAdapter for the OpAMP gateway: every WebSocket message is one binary OpAMP frame (no JSON
 * envelope), handed as it came to the gateway's OPAMP_FRAME handler; errors of single sockets (an
 * oversized frame, a peer gone) are the gateway's to count and log, not error lines of the adapter.
 * Set on the server application: `app.useWebSocketAdapter(new OpampWsAdapter(app))`.
 */
export class OpampWsAdapter extends WsAdapter {
  constructor(app: INestApplicationContext) {
    super(app, { messageParser: (data: unknown) => ({ event: OPAMP_FRAME, data }) });
  }

  /**
   * The frame handler is called straight from the socket's `message` event: the gateway answers on the
   * socket itself, so WsAdapter's per-message observable pipeline (fromEvent, mergeMap, filter,
   * takeUntil, a JSON reply) would only cost time on the hottest path (issue 14: as lean as before).
   */
  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    const frame = handlers.find((h) => h.message === OPAMP_FRAME);
    if (!frame) return super.bindMessageHandlers(client, handlers, transform);
    client.on('message', (data: RawData, isBinary: boolean) => {
      try {
        const payload = isBinary ? (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)) : data.toString();
        const result: unknown = frame.callback(payload, OPAMP_FRAME);
        if (result instanceof Promise) result.catch((error: unknown) => this.logger.error(error));
      } catch (error) {
        this.logger.error(error);
      }
    });
  }

  override bindErrorHandler(server: { on(event: 'error', listener: (error: Error) => void): void }): typeof server {
    server.on('error', (error) => this.logger.error(error));
    return server;
  }
}

/** One admitted WebSocket: its connection state, and its frames handled one after the other. */
interface WsConnection {
  state: ConnectionState;
  chain: Promise<void>;
  alive: boolean;
}

/**
 * OpAMP over WebSocket on `/v1/opamp` of the main HTTP port (through Nest's WsAdapter) and of the TLS
 * listener (which hands its upgrades here). Credentials are checked before the upgrade (ws's
 * verifyClient: 401/403/429/503 with Retry-After); each binary frame (varint header + AgentToServer)
 * goes to OpampCore in the order it came; pings find dead peers.
 */
@WebSocketGateway({ path: OPAMP_PATH, perMessageDeflate: false })
export class OpampGateway implements OnGatewayInit<WebSocketServer>, OnGatewayConnection<WebSocket>, OnGatewayDisconnect<WebSocket> {
  private readonly log = createLogger('Ampora.OpAmp.Transport');
  private server?: WebSocketServer;
  private readonly connections = new WeakMap<WebSocket, WsConnection>();
  /** The state admitted for an upgrade request, until its socket opens. */
  private readonly admitted = new WeakMap<IncomingMessage, ConnectionState>();
  private pinger?: TimerHandle;

  constructor(
    private readonly core: OpampCore,
    private readonly admission: AgentAdmission,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** The adapter created the WebSocket server: bound its frames and check credentials before every upgrade. */
  afterInit(server: WebSocketServer): void {
    this.server = server;
    server.options.maxPayload = this.config.opamp.maxMessageBytes;
    server.options.verifyClient = (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
      void this.verifyUpgrade(info.req, done);
    };
    this.pinger = this.clock.setInterval(() => this.ping(), 30_000).unref();
  }

  /** Upgrades a request the TLS listener received (its own HTTPS server) onto this gateway. */
  acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const server = this.server;
    if (!server) return void socket.destroy();
    server.handleUpgrade(req, socket, head, (ws) => server.emit('connection', ws, req));
  }

  private async verifyUpgrade(req: IncomingMessage, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void): Promise<void> {
    try {
      const auth = await this.admission.admit(req, 'ws');
      if (!auth.ok) {
        if (auth.status !== 503) {
          countRejected(auth.tenantId, 'auth_failed');
          this.log.debug('Refused a WebSocket agent ({Status}, retry after {RetryAfter} s): {Reason}', { Status: auth.status, RetryAfter: auth.retryAfter, Reason: auth.reason });
        }
        return done(false, auth.status, STATUS_TEXT[auth.status], upgradeHeaders(auth.status, auth.retryAfter));
      }
      this.admitted.set(req, auth.state);
      done(true);
    } catch (error) {
      this.log.error('OpAMP upgrade failed', {}, error);
      done(false, 500, 'Internal Server Error');
    }
  }

  handleConnection(ws: WebSocket, req: IncomingMessage): void {
    const admitted = this.admitted.get(req);
    if (!admitted) return void ws.close(1011, 'not admitted');
    this.admitted.delete(req);
    const state = admitted;
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
    const connection: WsConnection = { state, chain: Promise.resolve(), alive: true };
    this.connections.set(ws, connection);
    ws.on('pong', () => (connection.alive = true));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') countRejected(tenantOf(state), 'oversize');
      else this.log.debug('WebSocket error: {Error}', { Error: error.message });
    });
  }

  /** Every frame, in arrival order per connection (text frames arrive as strings). */
  @SubscribeMessage(OPAMP_FRAME)
  onFrame(ws: WebSocket, data: Buffer | string): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    connection.chain = connection.chain.then(() => this.handleFrame(ws, connection.state, data)).catch((error: unknown) => this.log.error('OpAMP frame handling failed', {}, error));
  }

  handleDisconnect(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    void connection.chain.then(() => {
      if (connection.state.session) this.core.end(connection.state.session, this.clock.now());
    });
  }

  private async handleFrame(ws: WebSocket, state: ConnectionState, data: Buffer | string): Promise<void> {
    const tenantId = tenantOf(state);
    const uid = state.session?.instanceUid ?? new Uint8Array();
    if (typeof data === 'string') {
      countRejected(tenantId, 'malformed');
      state.handle.send!(errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'OpAMP needs binary frames; text frames are refused'));
      return;
    }
    const frame = decodeWsFrame(data);
    const decoded = frame.ok ? decodeAgentToServer(frame.payload) : { ok: false as const, reason: frame.reason };
    if (!decoded.ok) {
      countRejected(tenantId, 'malformed');
      state.handle.send!(errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `undecodable AgentToServer: ${decoded.reason}`));
      return;
    }
    if (decoded.invalidUtf8) countInvalidUtf8(tenantId);
    const result = await this.core.handle(state, decoded.message, data.length);
    if (result.kind === 'reject') {
      countRejected(state.session?.tenantId ?? tenantId, result.reason);
      if (result.reason === 'auth_failed') {
        // remembered before the close: opamp-go reconnects at once, and that attempt is refused 429
        await this.admission.rememberRefusal(state);
        ws.close(1008, 'not authorized for this agent');
        return;
      }
      state.handle.send!(result.reply ?? errorReply(decoded.message.instanceUid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, result.message));
      return;
    }
    state.handle.send!(result.reply);
    if (result.closeAfter) ws.close(1000, 'agent disconnected');
  }

  /** The open WebSockets. */
  get clients(): WebSocket[] {
    return this.server ? [...this.server.clients] : [];
  }

  /** Closes every WebSocket so agents reconnect (elsewhere), and waits (bounded) for the closes. */
  async drain(code = 1012, reason = 'server restarting', waitMs = 1000): Promise<void> {
    const clients = this.clients;
    const closed = clients.map((ws) => new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r()))));
    for (const ws of clients) ws.close(code, reason);
    await Promise.race([Promise.all(closed), new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /** Stops the pings and cuts what is still open (the end of a shutdown; Nest closes the server itself). */
  stop(): void {
    this.pinger?.cancel();
    for (const ws of this.clients) ws.terminate();
  }

  /** A peer that did not answer the previous ping is gone. */
  private ping(): void {
    for (const ws of this.clients) {
      const connection = this.connections.get(ws);
      if (!connection) continue;
      if (!connection.alive) {
        ws.terminate();
        continue;
      }
      connection.alive = false;
      ws.ping();
    }
  }
}

/** ws writes these on a refused handshake (with Connection: close and the status text as body). */
function upgradeHeaders(status: number, retryAfter: number | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(refusalHeaders(status, retryAfter))) {
    if (name === 'content-type') continue;
    headers[name === 'www-authenticate' ? 'WWW-Authenticate' : 'Retry-After'] = value;
  }
  return headers;
}
