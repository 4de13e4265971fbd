import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { uidToString } from '@ampora/opamp';
import { eventually, TestAgent } from '@ampora/testing';
import WebSocket, { WebSocketServer } from 'ws';
import { LeanSocket } from '../bench/scale/lean-socket';
import { startTestServer, TestServer } from './support/test-server';

/**
 * bench:scale's lean WebSocket client (decision 0445) against two real peers: the `ws` server
 * (every kind of frame the RFC lets a server send) and Ampora itself (an enrolment through TestAgent),
 * so the swarm's figures rest on a client that speaks the protocol, not on one that only looks fast.
 */
describe('bench:scale lean WebSocket client', () => {
  let http: Server;
  let wss: WebSocketServer;
  let url: string;
  const seen: { headers?: Record<string, string | string[] | undefined>; messages: Array<{ data: Buffer; binary: boolean }>; closeCode?: number } = { messages: [] };
  let onConnection: (ws: WebSocket) => void = () => undefined;

  beforeAll(async () => {
    http = createServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (req, socket, head) => {
      if (req.headers.authorization === 'Bearer refuse') {
        socket.end('HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        seen.headers = req.headers;
        ws.on('message', (data: Buffer, binary) => seen.messages.push({ data, binary }));
        ws.on('close', (code) => (seen.closeCode = code));
        onConnection(ws);
      });
    });
    wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/v1/opamp?x=1`;
  });
  afterAll(async () => {
    wss.close();
    await new Promise((r) => http.close(r));
  });
  beforeEach(() => {
    seen.messages = [];
    seen.closeCode = undefined;
    onConnection = () => undefined;
  });

  const open = (headers: Record<string, string> = {}) =>
    new Promise<LeanSocket>((resolve, reject) => {
      const s = new LeanSocket(url, headers);
      s.once('open', () => resolve(s));
      s.once('error', reject);
      s.once('unexpected-response', (_req: unknown, res: { statusCode: number }) => reject(new Error(`status ${res.statusCode}`)));
    });

  it('upgrades with the given headers, and its frames of every length arrive whole and unmasked', async () => {
    const s = await open({ authorization: 'Bearer t0ken' });
    expect(seen.headers?.authorization).toBe('Bearer t0ken');
    const sizes = [0, 1, 125, 126, 65535, 65536, 200_000];
    for (const n of sizes) s.send(Buffer.alloc(n, n % 251));
    s.send('text');
    await eventually(() => seen.messages.length === sizes.length + 1);
    expect(seen.messages.map((m) => m.data.length)).toEqual([...sizes, 4]);
    expect(seen.messages.slice(0, -1).every((m, i) => m.binary && m.data.every((b) => b === sizes[i]! % 251))).toBe(true);
    expect(seen.messages.at(-1)).toEqual({ data: Buffer.from('text'), binary: false });
    s.close(1000);
    await eventually(() => seen.closeCode === 1000);
  });

  it('reads what the server sends: messages of every length, several in one read, fragmented ones, pings (answered), and its close code', async () => {
    let server!: WebSocket;
    onConnection = (ws) => (server = ws);
    const s = await open();
    await eventually(() => server !== undefined);
    const got: Buffer[] = [];
    s.on('message', (m: Buffer) => got.push(m));
    const pongs: Buffer[] = [];
    server.on('pong', (p) => pongs.push(p));
    const sizes = [1, 125, 126, 65535, 65536, 300_000];
    for (const n of sizes) server.send(Buffer.alloc(n, 7));
    server.send(Buffer.from('one'), { fin: false });
    server.send(Buffer.from('-two'), { fin: true });
    server.ping(Buffer.from('are you there'));
    await eventually(() => got.length === sizes.length + 1 && pongs.length === 1);
    expect(got.map((b) => b.length)).toEqual([...sizes, 7]);
    expect(got.at(-1)!.toString()).toBe('one-two');
    expect(pongs[0]!.toString()).toBe('are you there');
    const closed = new Promise<number>((r) => s.once('close', r));
    server.close(4003, 'bye');
    expect(await closed).toBe(4003);
    expect(s.readyState).toBe(3);
  });

  it('reports a refused upgrade with its status and headers, as ws does', async () => {
    await expect(open({ authorization: 'Bearer refuse' })).rejects.toThrow('status 429');
    const agent = new TestAgent({ url, token: 'refuse', socket: (u, h) => new LeanSocket(u, h) });
    await expect(agent.connect()).rejects.toMatchObject({ status: 429, retryAfter: 7 });
  });

  it('rejects a connection that cannot be made', async () => {
    const closedPort = `ws://127.0.0.1:1/v1/opamp`;
    const agent = new TestAgent({ url: closedPort, socket: (u, h) => new LeanSocket(u, h) });
    await expect(agent.connect()).rejects.toThrow(/ECONNREFUSED/);
  });

  describe('against Ampora', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(async () => {
      await server?.close();
    });

    it('enrols with a bootstrap token, heartbeats and is told its configuration', async () => {
      const token = (await server.as().post('/api/bootstrap-tokens').send({ label: 'lean' }).expect(201)).body.token as string;
      const agent = new TestAgent({ url: `${server.url.replace('http', 'ws')}/v1/opamp`, token, socket: (u, h) => new LeanSocket(u, h) });
      await agent.connect();
      agent.hello();
      const first = await agent.next();
      expect(first.error_response).toBeUndefined();
      agent.heartbeat();
      const second = await agent.next();
      expect(second.error_response).toBeUndefined();
      const id = (await server.as().get('/api/agents').expect(200)).body.items.find((a: { instanceUid: string }) => a.instanceUid === uidToString(agent.uid))?.id;
      expect(id).toBeDefined();
      await agent.close();
      expect(agent.ws!.readyState).toBe(3);
    });
  });
});
