import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { eventually, TestAgent } from '@ampora/testing';
import WebSocket, { WebSocketServer } from 'ws';

/** A ServerToAgent frame with only its instance_uid (field 1, bytes), behind the OpAMP header byte. */
function frameWithUid(uid: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x00, 0x0a, uid.length]), uid]);
}

/**
 * TestAgent across reconnections (bench:scale's storm reconnects the same agents): a message of a new
 * connection goes to a waiter of that connection, never to one left over from the connection before
 * (a heartbeat whose server went away), and nothing an earlier connection left unread is taken for
 * the new one's answer. Against a real `ws` server that sends exactly what the test says.
 */
describe('TestAgent across reconnections', () => {
  let http: Server;
  let wss: WebSocketServer;
  let url: string;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    wss = new WebSocketServer({ noServer: true });
    http = createServer((_req, res) => res.writeHead(404).end());
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => sockets.push(ws)));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/v1/opamp`;
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    wss.close();
    await new Promise((r) => http.close(r));
  });

  it('rejects a wait of the old connection when a new one opens, and gives the new answer to the new wait', async () => {
    const agent = new TestAgent({ url });
    await agent.connect();
    await eventually(() => sockets.length === 1);
    const stale = agent.next(20_000);
    const staleOutcome = stale.then(
      () => 'answered',
      (error: Error) => error.message,
    );
    sockets[0]!.terminate();
    await agent.closed();
    await agent.connect();
    await eventually(() => sockets.length === 2);
    expect(await staleOutcome).toMatch(/replaced by a new one/);
    const fresh = agent.next(5000);
    const uid = Buffer.alloc(16, 7);
    sockets[1]!.send(frameWithUid(uid), { binary: true });
    expect(Buffer.from((await fresh).instance_uid!)).toEqual(uid);
    await agent.close();
  });

  it('does not answer a new connection with a message the old one left unread', async () => {
    const agent = new TestAgent({ url });
    const before = sockets.length;
    await agent.connect();
    await eventually(() => sockets.length === before + 1);
    const leftover = Buffer.alloc(16, 1);
    sockets[before]!.send(frameWithUid(leftover), { binary: true });
    await eventually(() => agent.received.length === 1);
    sockets[before]!.terminate();
    await agent.closed();
    await agent.connect();
    await eventually(() => sockets.length === before + 2);
    expect(agent.received).toHaveLength(0);
    const answer = Buffer.alloc(16, 2);
    const next = agent.next(5000);
    sockets[before + 1]!.send(frameWithUid(answer), { binary: true });
    expect(Buffer.from((await next).instance_uid!)).toEqual(answer);
    await agent.close();
  });
});
