import { Inject } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { MessageMappingProperties, OnGatewayConnection, OnGatewayDisconnect, OnGatewayInit, WebSocketGateway } from '@nestjs/websockets';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Observable } from 'rxjs';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, TimerHandle } from '@ampora/platform';
import type { ConnectionState, HandleResult } from '../core/connection-state';
import { OpampCore } from '../core/opamp-core.service';
import { ServerErrorResponseType } from '../generated/opamp_pb';
import { decodeAgentToServer, encodeServerToAgent, errorReply } from '../protocol/codec';
import { decodeWsFrame, encodeWsFrame } from '../protocol/framing';
import { AgentAdmission, refusalHeaders, STATUS_TEXT } from './agent-admission';
import { countInvalidUtf8, countRejected, tenantOf } from './frame-refusals';

/** The OpAMP endpoint's path on both listeners. */
export const OPAMP_PATH = '/v1/opamp';

/**
 * Nest's WsAdapter for the OpAMP gateway: it creates the WebSocket server on `/v1/opamp` and drives
 * the gateway's lifecycle (afterInit, handleConnection, handleDisconnect). OpAMP frames are binary
 * protobuf, not WsAdapter's JSON `{event, data}` messages: the gateway reads each socket's frames
 * itself (OpampGateway.handleConnection, decision 0280), so a gateway without message handlers gets no
 * per-message pipeline here. Errors of single sockets (an oversized frame, a peer gone) are the
 * gateway's to count and log, not error lines of the adapter.
 * Set on the server application: `app.useWebSocketAdapter(new OpampWsAdapter(app))`.
 */
export class OpampWsAdapter extends WsAdapter {
  override bindMessageHandlers(client: WebSocket, handlers: MessageMappingProperties[], transform: (data: unknown) => Observable<unknown>): void {
    if (handlers.length > 0) super.bindMessageHandlers(client, handlers, transform);
  }

  override bindErrorHandler(server: { on(event: 'error', listener: (error: Error) => void): void }): typeof server {
    server.on('error', (error) => this.logger.error(error));
    return server;
  }
}

/**
 * One admitted WebSocket: its connection state, and its frames handled one after the other. A frame
 * whose handling completes at once (a heartbeat) needs no promise; one that waits (the first frame's
 * attach, a certificate request) holds the frames behind it in `queue` until it settles.
 */
interface WsConnection {
  state: ConnectionState;
  /** The frame being handled is waiting; frames that came meanwhile wait in `queue`. */
  busy: boolean;
  queue: Array<Buffer | string>;
  /** Called once the queue is empty and nothing waits (set by handleDisconnect). */
  onIdle?: () => void;
  /** A frame or a pong came since the last ping round: the peer is there, no ping needed. */
  heard: boolean;
  /** The last round pinged this peer and nothing has come since. */
  pinged: boolean;
}

/** Ping rounds: every 30 s; a round handles this many sockets per turn of the event loop. */
const PING_INTERVAL_MS = 30_000;
const PING_SLICE = 500;

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
  /** A ping round is working through its slices. */
  private pinging = false;

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
    this.pinger = this.clock.setInterval(() => this.ping(), PING_INTERVAL_MS).unref();
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
          if (!auth.limited) countRejected(auth.tenantId, 'auth_failed');
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
    const connection: WsConnection = { state, busy: false, queue: [], heard: true, pinged: false };
    this.connections.set(ws, connection);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      connection.heard = true;
      this.onFrame(ws, connection, isBinary ? binary(data) : data.toString());
    });
    ws.on('pong', () => (connection.heard = true));
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') countRejected(tenantOf(state), 'oversize');
      else this.log.debug('WebSocket error: {Error}', { Error: error.message });
    });
  }

  /**
   * Every frame, in arrival order per connection (text frames arrive as strings). Called straight from
   * the socket's `message` event: no Nest message context (its guards, interceptors and pipes are for
   * HTTP; an agent's credentials were checked before the upgrade), no promise when nothing waits.
   */
  private onFrame(ws: WebSocket, connection: WsConnection, data: Buffer | string): void {
    if (connection.busy) return void connection.queue.push(data);
    let next: Buffer | string | undefined = data;
    while (next !== undefined) {
      let pending: Promise<void> | void = undefined;
      try {
        pending = this.handleFrame(ws, connection.state, next);
      } catch (error) {
        this.log.error('OpAMP frame handling failed', {}, error);
      }
      if (pending) {
        connection.busy = true;
        pending.then(
          () => this.resume(ws, connection),
          (error: unknown) => {
            this.log.error('OpAMP frame handling failed', {}, error);
            this.resume(ws, connection);
          },
        );
        return;
      }
      next = connection.queue.shift();
    }
    connection.onIdle?.();
  }

  /** The waiting frame settled: the frames that came meanwhile, in order. */
  private resume(ws: WebSocket, connection: WsConnection): void {
    connection.busy = false;
    const next = connection.queue.shift();
    if (next !== undefined) this.onFrame(ws, connection, next);
    else connection.onIdle?.();
  }

  handleDisconnect(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection) return;
    const end = () => {
      connection.onIdle = undefined;
      if (connection.state.session) this.core.end(connection.state.session, this.clock.now());
    };
    if (connection.busy) connection.onIdle = end;
    else end();
  }

  /** One frame: decoded, handled by the core, answered. A promise only when something had to wait. */
  private handleFrame(ws: WebSocket, state: ConnectionState, data: Buffer | string): Promise<void> | void {
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
    const result = this.core.handle(state, decoded.message, data.length);
    return result instanceof Promise ? result.then((r) => this.answer(ws, state, decoded.message.instanceUid, r)) : this.answer(ws, state, decoded.message.instanceUid, result);
  }

  private answer(ws: WebSocket, state: ConnectionState, uid: Uint8Array, result: HandleResult): Promise<void> | void {
    if (result.kind === 'reject') {
      countRejected(tenantOf(state), result.reason);
      if (result.reason === 'auth_failed') {
        // remembered before the close: opamp-go reconnects at once, and that attempt is refused 429
        return this.admission.rememberRefusal(state).then(() => ws.close(1008, 'not authorized for this agent'));
      }
      state.handle.send!(result.reply ?? errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, result.message));
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

  /**
   * A ping round (decision 0424). A peer heard from since the last round (a frame or a pong) is there
   * and is not pinged; one not heard from is pinged; one pinged in the last round and not heard from
   * since is gone. Agents that heartbeat cost no write, and the round works through the sockets a
   * slice per turn of the event loop: one write per socket in one turn held every frame of the fleet
   * up for half a second at 18,000 sockets.
   */
  private ping(): void {
    if (this.pinging) return;
    const sockets = this.clients;
    let next = 0;
    const slice = () => {
      const end = Math.min(sockets.length, next + PING_SLICE);
      for (; next < end; next++) this.pingOne(sockets[next]!);
      if (next < sockets.length) setImmediate(slice);
      else this.pinging = false;
    };
    this.pinging = true;
    slice();
  }

  private pingOne(ws: WebSocket): void {
    const connection = this.connections.get(ws);
    if (!connection || ws.readyState !== WebSocket.OPEN) return;
    if (connection.heard) {
      connection.heard = false;
      connection.pinged = false;
    } else if (connection.pinged) {
      ws.terminate();
    } else {
      connection.pinged = true;
      ws.ping();
    }
  }
}

/** A binary message as one Buffer (ws hands fragments as an array when asked to). */
function binary(data: RawData): Buffer {
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
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
