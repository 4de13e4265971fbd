import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type { AnyValue, KeyValue } from '../generated/anyvalue_pb';
import {
  AgentConfigMap,
  AgentToServer,
  AgentToServerSchema,
  ComponentHealth,
  ServerErrorResponseType,
  ServerToAgent,
  ServerToAgentSchema,
} from '../generated/opamp_pb';
import { ConfigFiles } from './config-hash';

export type DecodeResult = { ok: true; message: AgentToServer } | { ok: false; reason: string };

/** Decodes an AgentToServer; never throws. */
export function decodeAgentToServer(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, message: fromBinary(AgentToServerSchema, bytes) };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'undecodable protobuf' };
  }
}

export function encodeServerToAgent(message: ServerToAgent): Uint8Array {
  return toBinary(ServerToAgentSchema, message);
}

export function serverToAgent(init: Parameters<typeof create<typeof ServerToAgentSchema>>[1]): ServerToAgent {
  return create(ServerToAgentSchema, init);
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
  const out: Record<string, JsonValue> = {};
  for (const kv of values) out[kv.key] = anyValueToJson(kv.value, depth);
  return out;
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
