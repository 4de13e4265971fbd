/**
 * bench/push-encode — what the server spends, per agent, turning one pushed config into the bytes of
 * its ServerToAgent: the command of a dispatch batch decoded into a desired config, the remote config
 * part of the message, and the protobuf encoding (decision 0427). Two variants in the same run,
 * alternating rounds, medians compared as a ratio:
 *
 *   per agent — what each agent of a batch cost before decision 0427: the command's files decoded
 *               from base64, a fresh AgentRemoteConfig, the whole message encoded;
 *   shared    — the product now: one desired config and one remote config object per command, whose
 *               encoding is made once and appended to each agent's instance_uid and capabilities.
 *
 * Each variant also decodes every message it made once per round and checks it (uid, hash, body), so
 * a variant that encodes something else fails the run instead of winning it.
 *
 *   npm run bench:push-encode -- [--agents 10000] [--rounds 7] [--config-kib 0.5,8]
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { desiredConfig, desiredFromCommand, DesiredConfig, encodeServerToAgent, pb, remoteConfigCommand, serverToAgent, toRemoteConfig } from '@ampora/opamp';
import { fmt, machine, percentile } from '../lib/stats';
import { benchYaml } from '../rollout/policies';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
};
const AGENTS = Number(option('agents') ?? 10_000);
const ROUNDS = Number(option('rounds') ?? 7);
const SIZES_KIB = (option('config-kib') ?? '0.5,8').split(',').map(Number).filter((n) => n > 0);
const CAPABILITIES = 0x1fn;

/** A collector config of about `kib` KiB: the bench's pipeline, padded with more exporters. */
function configOf(kib: number): DesiredConfig {
  let yaml = benchYaml(1);
  for (let i = 0; Buffer.byteLength(yaml) < kib * 1024; i++) yaml += `# exporter otlp/${i}: {endpoint: "collector-${i}.example:4317", tls: {insecure: false}, sending_queue: {enabled: true}}\n`;
  return desiredConfig({ 'collector.yaml': { contentType: 'text/yaml', body: Buffer.from(yaml) } });
}

const uids = Array.from({ length: AGENTS }, (_, i) => {
  const uid = Buffer.alloc(16);
  uid.writeUInt32BE(i + 1, 12);
  return uid;
});

type Variant = (command: ReturnType<typeof remoteConfigCommand>) => Uint8Array[];

const perAgent: Variant = (command) =>
  uids.map((instanceUid) => {
    const configMap: Record<string, { $typeName: 'opamp.proto.v1.AgentConfigFile'; body: Uint8Array; contentType: string }> = {};
    for (const [name, f] of Object.entries(command.files)) configMap[name] = { $typeName: 'opamp.proto.v1.AgentConfigFile', body: Buffer.from(f.body, 'base64'), contentType: f.contentType };
    const message = create(pb.ServerToAgentSchema, { instanceUid, capabilities: CAPABILITIES, remoteConfig: { config: { configMap }, configHash: Buffer.from(command.hash, 'hex') } });
    return toBinary(pb.ServerToAgentSchema, message);
  });

const shared: Variant = (command) =>
  uids.map((instanceUid) => encodeServerToAgent(serverToAgent({ instanceUid, capabilities: CAPABILITIES, remoteConfig: toRemoteConfig(desiredFromCommand(command)) })));

function check(name: string, frames: Uint8Array[], desired: DesiredConfig): void {
  const body = Buffer.from(desired.files['collector.yaml']!.body);
  frames.forEach((frame, i) => {
    const m = fromBinary(pb.ServerToAgentSchema, frame);
    const ok = Buffer.from(m.instanceUid).equals(uids[i]!) && m.capabilities === CAPABILITIES && Buffer.from(m.remoteConfig!.configHash).toString('hex') === desired.hash && Buffer.from(m.remoteConfig!.config!.configMap['collector.yaml']!.body).equals(body);
    if (!ok) throw new Error(`${name}: message ${i} does not decode to what was pushed`);
  });
}

function timeOne(variant: Variant, desired: DesiredConfig): number {
  // a batch's command as the worker sends it: a new object per batch (one per 1,000 agents in the product; one per round here)
  const command = remoteConfigCommand(desired, false);
  const start = process.hrtime.bigint();
  variant(command);
  return Number(process.hrtime.bigint() - start) / 1000 / AGENTS;
}

console.log(`bench/push-encode: ${AGENTS} agents per round, ${ROUNDS} rounds per variant, alternating; ${machine()}`);
for (const kib of SIZES_KIB) {
  const desired = configOf(kib);
  const bytes = desired.files['collector.yaml']!.body.length;
  check('per agent', perAgent(remoteConfigCommand(desired, false)), desired);
  check('shared', shared(remoteConfigCommand(desired, false)), desired);
  const times = { perAgent: [] as number[], shared: [] as number[] };
  timeOne(perAgent, desired); // warm-up of both before the measured rounds
  timeOne(shared, desired);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['perAgent', 'shared'] as const) : (['shared', 'perAgent'] as const);
    for (const name of order) times[name].push(timeOne(name === 'perAgent' ? perAgent : shared, desired));
  }
  const a = percentile(times.perAgent, 50);
  const b = percentile(times.shared, 50);
  console.log(`  config of ${fmt(bytes / 1024, 1)} KiB: per agent ${fmt(a, 2)} µs, shared ${fmt(b, 2)} µs per pushed agent (medians of ${ROUNDS}; rounds ${times.perAgent.map((t) => fmt(t, 1)).join('/')} against ${times.shared.map((t) => fmt(t, 1)).join('/')}); shared / per agent = ${fmt(b / a, 2)}`);
}
