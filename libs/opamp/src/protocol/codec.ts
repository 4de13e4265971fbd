import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, configureTextEncoding, getTextEncoding, WireType } from '@bufbuild/protobuf/wire';
import type { AnyValue, KeyValue } from '../generated/anyvalue_pb';
import {
  AgentConfigMap,
  AgentRemoteConfig,
  AgentRemoteConfigSchema,
  AgentToServer,
  AgentToServerSchema,
  AvailableComponents,
  ComponentDetails,
  ComponentHealth,
  PackagesAvailable,
  PackagesAvailableSchema,
  PackageType,
  ServerErrorResponseType,
  ServerToAgent,
  ServerToAgentSchema,
} from '../generated/opamp_pb';
import { ConfigFiles } from './config-hash';
import type { PackagesOffer } from '../ports';

/** `invalidUtf8`: some string field was not valid UTF-8 and was decoded with U+FFFD in its place. */
export type DecodeResult = { ok: true; message: AgentToServer; invalidUtf8?: boolean } | { ok: false; reason: string };

/** Decodes an AgentToServer; never throws. */
export function decodeAgentToServer(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, message: fromBinary(AgentToServerSchema, bytes) };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      // a Collector with a stray byte in a host name must still be heard: decode it as U+FFFD
      const lenient = decodeLeniently(bytes);
      if (lenient) return { ok: true, message: lenient, invalidUtf8: true };
    }
    return { ok: false, reason: error instanceof Error ? error.message : 'undecodable protobuf' };
  }
}

const replacingDecoder = new TextDecoder('utf-8');

/**
 * protobuf-es validates the UTF-8 of proto3 strings (throws) and offers no per-call option: for this
 * one synchronous decode its text encoding is swapped for a replacing decoder, and put back.
 */
function decodeLeniently(bytes: Uint8Array): AgentToServer | undefined {
  const strict = getTextEncoding();
  configureTextEncoding({ encodeUtf8: strict.encodeUtf8, checkUtf8: strict.checkUtf8, decodeUtf8: (b) => replacingDecoder.decode(b) });
  try {
    return fromBinary(AgentToServerSchema, bytes);
  } catch {
    return undefined;
  } finally {
    configureTextEncoding(strict);
  }
}

/** The wire bytes of each remote config object, field tag and length included (see encodeServerToAgent). */
const encodedRemoteConfigs = new WeakMap<AgentRemoteConfig, Uint8Array>();

/**
 * Encodes a ServerToAgent. A push sends one config to thousands of agents, each message differing only
 * in its instance_uid: the remote config part is encoded once per config object and appended to the
 * encoding of the rest (protobuf fields may come in any order; a parser reads the same message).
 */
export function encodeServerToAgent(message: ServerToAgent): Uint8Array {
  const config = message.remoteConfig;
  if (!config) return toBinary(ServerToAgentSchema, message);
  let part = encodedRemoteConfigs.get(config);
  if (!part) {
    // remote_config is field 3 of ServerToAgent
    part = new BinaryWriter().tag(3, WireType.LengthDelimited).bytes(toBinary(AgentRemoteConfigSchema, config)).finish();
    encodedRemoteConfigs.set(config, part);
  }
  const rest = toBinary(ServerToAgentSchema, { ...message, remoteConfig: undefined });
  const out = new Uint8Array(rest.length + part.length);
  out.set(rest, 0);
  out.set(part, rest.length);
  return out;
}

export function serverToAgent(init: Parameters<typeof create<typeof ServerToAgentSchema>>[1]): ServerToAgent {
  return create(ServerToAgentSchema, init);
}

/** A packages offer → PackagesAvailable (issue 20 item 4). */
export function packagesAvailable(offer: PackagesOffer): PackagesAvailable {
  return create(PackagesAvailableSchema, {
    allPackagesHash: offer.allPackagesHash,
    packages: Object.fromEntries(
      Object.entries(offer.packages).map(([name, p]) => [
        name,
        {
          type: p.type === 'Addon' ? PackageType.PackageType_Addon : PackageType.PackageType_TopLevel,
          version: p.version,
          hash: p.hash,
          file: { downloadUrl: p.downloadUrl, contentHash: p.contentHash, signature: p.signature },
        },
      ]),
    ),
  });
}

/** A ServerToAgent carrying only an error (and the uid echo), as the spec requires. */
export function errorReply(instanceUid: Uint8Array, type: ServerErrorResponseType, message: string): ServerToAgent {
  return serverToAgent({ instanceUid, errorResponse: { type, errorMessage: message } });
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Nesting kept from an agent's attribute values (like health components): deeper values become null (decision 0130). */
export const MAX_ANY_VALUE_DEPTH = 16;

export function anyValueToJson(v: AnyValue | undefined, depth = 0): JsonValue {
  if (!v || depth >= MAX_ANY_VALUE_DEPTH) return null;
  switch (v.value.case) {
    case 'stringValue':
      return v.value.value;
    case 'boolValue':
      return v.value.value;
    case 'intValue': {
      const n = v.value.value;
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString();
    }
    case 'doubleValue':
      return Number.isFinite(v.value.value) ? v.value.value : String(v.value.value);
    case 'arrayValue':
      return v.value.value.values.map((x) => anyValueToJson(x, depth + 1));
    case 'kvlistValue':
      return keyValuesToJson(v.value.value.values, depth + 1);
    case 'bytesValue':
      return Buffer.from(v.value.value).toString('base64');
    default:
      return null;
  }
}

/** KeyValue list → plain object (later keys win on duplicates). */
export function keyValuesToJson(values: KeyValue[], depth = 0): Record<string, JsonValue> {
  // fromEntries defines own properties: a key `__proto__` stays an attribute
  return Object.fromEntries(values.map((kv) => [kv.key, anyValueToJson(kv.value, depth)]));
}

export interface HealthJson {
  healthy: boolean;
  status: string;
  lastError: string;
  startTime: string | null;
  statusTime: string | null;
  components: Record<string, HealthJson>;
}

function nanosToIso(n: bigint): string | null {
  if (n === 0n) return null;
  const ms = Number(n / 1_000_000n);
  return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : null;
}

export function healthToJson(h: ComponentHealth, depth = 0): HealthJson {
  const components: Record<string, HealthJson> = {};
  if (depth < 16) for (const [k, v] of Object.entries(h.componentHealthMap)) components[k] = healthToJson(v, depth + 1);
  return {
    healthy: h.healthy,
    status: h.status,
    lastError: h.lastError,
    startTime: nanosToIso(h.startTimeUnixNano),
    statusTime: nanosToIso(h.statusTimeUnixNano),
    components,
  };
}

export function configMapToFiles(map: AgentConfigMap | undefined): ConfigFiles {
  const files: ConfigFiles = {};
  for (const [k, v] of Object.entries(map?.configMap ?? {})) files[k] = { body: v.body, contentType: v.contentType };
  return files;
}

/** One reported component: its metadata (e.g. `code.namespace`) and what is nested under it. */
export interface ComponentNodeJson {
  metadata: Record<string, JsonValue>;
  subComponents: Record<string, ComponentNodeJson>;
}

export interface AvailableComponentsJson {
  hash: string;
  /** The top-level names (for a Collector, its kinds: receivers, processors, ...). */
  components: string[];
  /** Top-level name → names nested directly under it. */
  subComponents: Record<string, string[]>;
  /** Everything reported, at every nesting level. */
  tree: Record<string, ComponentNodeJson>;
}

/** Nesting levels and components kept of one report (a Collector sends two levels, a few hundred components). */
const COMPONENT_DEPTH = 8;
const COMPONENT_MAX = 10_000;

/** AvailableComponents → JSON, at every nesting level ComponentDetails allows (bounded). */
export function availableComponentsToJson(ac: AvailableComponents): AvailableComponentsJson {
  let budget = COMPONENT_MAX;
  const node = (d: ComponentDetails, depth: number): ComponentNodeJson => {
    const subComponents: Record<string, ComponentNodeJson> = {};
    if (depth < COMPONENT_DEPTH) {
      for (const name of Object.keys(d.subComponentMap).sort()) {
        if (budget-- <= 0) break;
        subComponents[name] = node(d.subComponentMap[name]!, depth + 1);
      }
    }
    return { metadata: keyValuesToJson(d.metadata), subComponents };
  };
  const tree: Record<string, ComponentNodeJson> = {};
  for (const name of Object.keys(ac.components).sort()) {
    if (budget-- <= 0) break;
    tree[name] = node(ac.components[name]!, 1);
  }
  const names = Object.keys(tree);
  return { hash: Buffer.from(ac.hash).toString('hex'), components: names, subComponents: Object.fromEntries(names.map((k) => [k, Object.keys(tree[k]!.subComponents)])), tree };
}
