/**
 * The client side of a WebSocket (RFC 6455) on a bare TCP socket, for bench/scale's swarm: the
 * handshake is one written string and one status line read, each frame one buffer. The `ws` client
 * builds an `http.ClientRequest` and an HTTP parser per connection and a Sender and Receiver per
 * socket; on a two-core machine where the clients share the cores with the server under test, that
 * cost ~0.4 ms of the clients' CPU per enrolled agent, time the server did not get (decision 0445).
 *
 * It emits what `TestAgent` listens to on a `ws` WebSocket: `open`, `unexpected-response` (with a
 * response's `statusCode`, `headers` and `resume()`), `message` (a Buffer), `ping`, `pong`, `error`
 * and `close` (the code the server sent, or 1006). Frames the server sends whole or fragmented are
 * read; a masked or malformed one closes the connection with 1002, as the RFC asks.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { connect, Socket } from 'node:net';
import type { AgentSocket } from '@ampora/testing';

const ACCEPT_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** Random bytes for keys, masks and instance uids, drawn from one pool refilled 64 KiB at a time. */
const pool = Buffer.alloc(64 * 1024);
let poolAt = pool.length;
export function pooledRandom(n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += n;
  return Buffer.from(pool.subarray(poolAt - n, poolAt));
}

interface Target {
  host: string;
  port: number;
  /** The request line and the headers every connection to this URL sends. */
  head: string;
}
const targets = new Map<string, Target>();
function target(url: string): Target {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    if (u.protocol !== 'ws:') throw new Error(`lean-socket speaks ws:// only, not ${u.protocol}`);
    const head = `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n`;
    targets.set(url, (t = { host: u.hostname, port: Number(u.port) || 80, head }));
  }
  return t;
}

export class LeanSocket extends EventEmitter implements AgentSocket {
  readyState = CONNECTING;
  private readonly socket: Socket;
  private readonly key = pooledRandom(16).toString('base64');
  private pending?: Buffer;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeCode = 1006;

  constructor(url: string, headers: Record<string, string>) {
    super();
    const t = target(url);
    let request = `${t.head}Sec-WebSocket-Key: ${this.key}\r\n`;
    for (const name in headers) request += `${name}: ${headers[name]}\r\n`;
    this.socket = connect({ host: t.host, port: t.port, noDelay: true });
    this.socket.write(`${request}\r\n`);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    this.socket.on('close', () => {
      this.readyState = CLOSED;
      this.emit('close', this.closeCode);
    });
  }

  send(data: Buffer | string, options: { binary?: boolean } = {}): void {
    if (this.readyState !== OPEN) return;
    const binary = typeof data !== 'string' && options.binary !== false;
    this.sendFrame(binary ? 0x2 : 0x1, typeof data === 'string' ? Buffer.from(data) : data);
  }

  close(code = 1000): void {
    if (this.readyState !== OPEN) return this.terminate();
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.sendFrame(0x8, body);
    this.readyState = CLOSING;
    this.socket.end();
  }

  terminate(): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSING;
    this.socket.destroy();
  }

  private sendFrame(opcode: number, payload: Buffer): void {
    const n = payload.length;
    const lengthBytes = n < 126 ? 0 : n < 65536 ? 2 : 8;
    const frame = Buffer.allocUnsafe(2 + lengthBytes + 4 + n);
    frame[0] = 0x80 | opcode;
    if (lengthBytes === 0) frame[1] = 0x80 | n;
    else if (lengthBytes === 2) {
      frame[1] = 0x80 | 126;
      frame.writeUInt16BE(n, 2);
    } else {
      frame[1] = 0x80 | 127;
      frame.writeBigUInt64BE(BigInt(n), 2);
    }
    const at = 2 + lengthBytes;
    const mask = pooledRandom(4);
    mask.copy(frame, at);
    for (let i = 0; i < n; i++) frame[at + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  private onData(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (this.readyState === CONNECTING) {
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) {
        this.pending = data;
        return;
      }
      if (!this.handshake(data.toString('latin1', 0, end))) return;
      data = data.subarray(end + 4);
    }
    let at = 0;
    while (this.readyState === OPEN || this.readyState === CLOSING) {
      if (data.length - at < 2) break;
      const b0 = data[at]!;
      const b1 = data[at + 1]!;
      if (b1 & 0x80) return this.fail('the server masked a frame');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        if (data.length - at < 4) break;
        length = data.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (data.length - at < 10) break;
        length = Number(data.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (data.length - at < header + length) break;
      const payload = data.subarray(at + header, at + header + length);
      at += header + length;
      this.onFrame(b0 & 0x80 ? true : false, b0 & 0x0f, payload);
    }
    if (at < data.length && this.readyState !== CLOSED) this.pending = Buffer.from(data.subarray(at));
  }

  /** Reads the server's answer to the upgrade; false when it was not a 101 (the events are emitted). */
  private handshake(head: string): boolean {
    const lines = head.split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    if (status !== 101) {
      this.emit('unexpected-response', undefined, { statusCode: status, headers, resume: () => undefined });
      this.terminate();
      return false;
    }
    const expected = createHash('sha1').update(this.key + ACCEPT_GUID).digest('base64');
    if (headers['sec-websocket-accept'] !== expected) {
      this.emit('error', new Error('the server answered the upgrade with a wrong Sec-WebSocket-Accept'));
      this.terminate();
      return false;
    }
    this.readyState = OPEN;
    this.emit('open');
    return true;
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0x8) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (this.readyState === OPEN) {
        this.sendFrame(0x8, Buffer.from(payload.subarray(0, 2)));
        this.readyState = CLOSING;
      }
      this.socket.end();
      return;
    }
    if (opcode === 0x9) {
      if (this.readyState === OPEN) this.sendFrame(0xa, payload);
      this.emit('ping', payload);
      return;
    }
    if (opcode === 0xa) return void this.emit('pong', payload);
    if (opcode === 0x1 || opcode === 0x2) {
      if (this.fragments.length) return this.fail('a new message began inside a fragmented one');
      if (fin) return void this.emit('message', payload, opcode === 0x2);
      this.fragmentOpcode = opcode;
      this.fragments.push(Buffer.from(payload));
      return;
    }
    if (opcode === 0x0) {
      if (!this.fragments.length) return this.fail('a continuation frame without a message');
      this.fragments.push(Buffer.from(payload));
      if (!fin) return;
      const whole = Buffer.concat(this.fragments);
      this.fragments = [];
      this.emit('message', whole, this.fragmentOpcode === 0x2);
      return;
    }
    this.fail(`an unknown opcode ${opcode}`);
  }

  private fail(why: string): void {
    if (this.listenerCount('error') > 0) this.emit('error', new Error(`lean-socket: ${why}`));
    this.closeCode = 1002;
    if (this.readyState === OPEN) this.close(1002);
    else this.terminate();
  }
}
