import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { TraceCarrier } from '@ampora/platform';
import { ConnectionSettingsOffers, ConnectionSettingsOffersSchema } from '../generated/opamp_pb';
import type { DesiredConfig } from '../ports';
import { DISPATCH_OUTCOMES, DispatchOutcome } from './agent-dispatcher';
import { OpampTopics } from '../opamp.events';

/** Backplane topics of the dispatcher (see opamp.events.ts). */
export const DISPATCH_TOPIC = OpampTopics.Dispatch;
export const DISPATCH_REPLY_TOPIC = OpampTopics.DispatchReply;

/** What to do to the agent's session; JSON-safe (bytes are base64). */
export type DispatchCommand =
  | { kind: 'remote_config'; hash: string; files: Record<string, { contentType: string; body: string }>; force: boolean }
  | { kind: 'connection_settings'; offer: string }
  | { kind: 'disconnect'; reason: string };

/**
 * A push forwarded to the instance that holds the agent's session. The fencing token is the one of
 * the lease the sender looked up: the receiver refuses an envelope whose token is not its session's.
 */
export interface DispatchEnvelope {
  v: 1;
  id: string;
  tenantId: string;
  agentId: string;
  fencingToken: string;
  /** Epoch milliseconds at the sender. */
  publishedAt: number;
  /** Instance that waits for the reply. */
  from: string;
  trace: TraceCarrier;
  command: DispatchCommand;
}

/** `stale`: the receiver does not hold the session the envelope was addressed to (look again). */
export type ReceiverOutcome = DispatchOutcome | 'stale';

export interface DispatchReply {
  v: 1;
  id: string;
  outcome: ReceiverOutcome;
}

export function remoteConfigCommand(config: DesiredConfig, force: boolean): DispatchCommand {
  const files: Record<string, { contentType: string; body: string }> = {};
  for (const [name, f] of Object.entries(config.files)) files[name] = { contentType: f.contentType, body: Buffer.from(f.body).toString('base64') };
  return { kind: 'remote_config', hash: config.hash, files, force };
}

export function desiredFromCommand(command: Extract<DispatchCommand, { kind: 'remote_config' }>): DesiredConfig {
  const files: DesiredConfig['files'] = {};
  for (const [name, f] of Object.entries(command.files)) files[name] = { contentType: f.contentType, body: Buffer.from(f.body, 'base64') };
  return { files, hash: command.hash };
}

export function connectionSettingsCommand(offer: ConnectionSettingsOffers): DispatchCommand {
  return { kind: 'connection_settings', offer: Buffer.from(toBinary(ConnectionSettingsOffersSchema, offer)).toString('base64') };
}

export function offerFromCommand(command: Extract<DispatchCommand, { kind: 'connection_settings' }>): ConnectionSettingsOffers {
  return fromBinary(ConnectionSettingsOffersSchema, Buffer.from(command.offer, 'base64'));
}

const RECEIVER_OUTCOMES: ReadonlySet<string> = new Set([...DISPATCH_OUTCOMES, 'stale']);

/** Checks the shape of an envelope that came off the backplane. */
export function parseEnvelope(body: unknown): DispatchEnvelope | undefined {
  const e = body as Partial<DispatchEnvelope> | null;
  if (!e || e.v !== 1 || typeof e.id !== 'string' || typeof e.tenantId !== 'string' || typeof e.agentId !== 'string') return undefined;
  if (typeof e.fencingToken !== 'string' || !/^\d{1,19}$/.test(e.fencingToken) || typeof e.publishedAt !== 'number' || typeof e.from !== 'string') return undefined;
  const c = e.command as Partial<DispatchCommand> | undefined;
  if (!c) return undefined;
  if (c.kind === 'remote_config' && typeof c.hash === 'string' && c.files && typeof c.files === 'object') return e as DispatchEnvelope;
  if (c.kind === 'connection_settings' && typeof c.offer === 'string') return e as DispatchEnvelope;
  if (c.kind === 'disconnect' && typeof c.reason === 'string') return e as DispatchEnvelope;
  return undefined;
}

export function parseReply(body: unknown): DispatchReply | undefined {
  const r = body as Partial<DispatchReply> | null;
  if (!r || r.v !== 1 || typeof r.id !== 'string' || typeof r.outcome !== 'string' || !RECEIVER_OUTCOMES.has(r.outcome)) return undefined;
  return r as DispatchReply;
}
