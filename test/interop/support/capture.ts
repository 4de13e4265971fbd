/**
 * Records what real OpAMP peers send: a minimal WebSocket OpAMP server on loopback that keeps every
 * AgentToServer (the protobuf bytes after the 0x00 header, and its JSON form), asks for full state,
 * and optionally offers one remote config. Used to refresh test/interop/captures/ (run with
 * `node -r ts-node/register/transpile-only -r tsconfig-paths/register test/interop/support/capture.ts extension|supervisor`
 * after scripts/interop-build.js); the captures feed unit tests about the real peers' messages.
 */
import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import { WebSocketServer } from 'ws';
import { pb } from '@ampora/opamp';
import { ExtensionCollector, killAllPeers, sleep, Supervisor } from './interop-kit';

const OUT = resolve(__dirname, '..', 'captures');

async function main(kind: 'extension' | 'supervisor'): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const http = createServer();
  const wss = new WebSocketServer({ server: http, path: '/v1/opamp' });
  const seen: pb.AgentToServer[] = [];
  const remoteYaml = 'receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: 127.0.0.1:0\nexporters:\n  debug/capture: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug/capture]\n';
  const remoteHash = createHash('sha256').update(remoteYaml).digest();
  let offered = false;
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const payload = data[0] === 0 ? data.subarray(1) : data;
      const msg = fromBinary(pb.AgentToServerSchema, payload);
      const i = seen.push(msg);
      writeFileSync(join(OUT, `${kind}-${String(i).padStart(2, '0')}.bin`), payload);
      const reply = create(pb.ServerToAgentSchema, {
        instanceUid: msg.instanceUid,
        capabilities: BigInt(pb.ServerCapabilities.ServerCapabilities_AcceptsStatus | pb.ServerCapabilities.ServerCapabilities_OffersRemoteConfig | pb.ServerCapabilities.ServerCapabilities_AcceptsEffectiveConfig),
        flags: BigInt(i === 1 ? pb.ServerToAgentFlags.ServerToAgentFlags_ReportFullState | pb.ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents : 0),
      });
      if (kind === 'supervisor' && !offered && i >= 2) {
        offered = true;
        reply.remoteConfig = create(pb.AgentRemoteConfigSchema, {
          configHash: remoteHash,
          config: { configMap: { '': { body: Buffer.from(remoteYaml), contentType: 'text/yaml' } } },
        });
      }
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(toBinary(pb.ServerToAgentSchema, reply))]));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as { port: number }).port;
  const endpoint = `ws://127.0.0.1:${port}/v1/opamp`;
  try {
    if (kind === 'extension') {
      const col = new ExtensionCollector({ endpoint, token: 'amp-bs.capture', instanceUid: '01936e4b-7d2c-7c3e-8a1f-0123456789ab' });
      col.start();
      await waitFor(() => seen.some((m) => m.health?.healthy) && seen.some((m) => m.availableComponents?.components && Object.keys(m.availableComponents.components).length > 0), 60_000);
      await sleep(2000);
      await col.close();
    } else {
      const sup = new Supervisor({ endpoint, token: 'amp-bs.capture', instanceId: '01936e4b-7d2c-7c3e-8a1f-0123456789ac' });
      sup.start();
      await waitFor(() => seen.some((m) => m.remoteConfigStatus?.status === pb.RemoteConfigStatuses.RemoteConfigStatuses_APPLIED), 60_000);
      await sleep(2000);
      await sup.close();
    }
  } finally {
    await killAllPeers();
    wss.close();
    http.close();
  }
  const json = seen.map((m) => toJson(pb.AgentToServerSchema, m));
  writeFileSync(join(OUT, `${kind}.json`), `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`captured ${seen.length} AgentToServer messages from the ${kind} into ${OUT}\n`);
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('capture: the peer did not send what was expected in time');
    await sleep(200);
  }
}

if (require.main === module) {
  const kind = process.argv[2] === 'supervisor' ? 'supervisor' : 'extension';
  main(kind).then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`${(error as Error).stack}\n`);
      process.exit(1);
    },
  );
}
