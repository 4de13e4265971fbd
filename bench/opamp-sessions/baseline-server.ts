/**
 * The ceiling: a bare `ws` server that decodes each AgentToServer with the same generated protobuf
 * code and answers a ServerToAgent echoing the uid. No authentication, no sessions, no database.
 */
import { WebSocketServer } from 'ws';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { pb } from '@ampora/opamp';

const port = Number(process.argv[2] ?? 0);
const wss = new WebSocketServer({ port, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 10 * 1024 * 1024 });
wss.on('connection', (ws) => {
  ws.on('message', (data: Buffer) => {
    const message = fromBinary(pb.AgentToServerSchema, data[0] === 0 ? data.subarray(1) : data);
    const reply = toBinary(pb.ServerToAgentSchema, create(pb.ServerToAgentSchema, { instanceUid: message.instanceUid, capabilities: 7n }));
    const frame = Buffer.allocUnsafe(reply.length + 1);
    frame[0] = 0;
    frame.set(reply, 1);
    ws.send(frame);
  });
});
wss.on('listening', () => process.send?.({ event: 'listening', port: (wss.address() as { port: number }).port }));
