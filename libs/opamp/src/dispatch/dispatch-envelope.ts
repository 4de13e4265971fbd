import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { TraceCarrier } from '@ampora/platform';
import { ConnectionSettingsOffers, ConnectionSettingsOffersSchema } from '../generated/opamp_pb';
import type { DesiredConfig } from '../ports';
import { sharedDesiredConfig } from '../core/shared-desired-config';
import { DISPATCH_OUTCOMES, DispatchOutcome } from './agent-dispatcher';
import { OpampTopics } from '../opamp.events';

/** Backplane topics of the dispatcher (see opamp.events.ts). */
export const DISPATCH_TOPIC = OpampTopics.Dispatch;
export const DISPATCH_REPLY_TOPIC = OpampTopics.DispatchReply;
export const DISPATCH_BATCH_TOPIC = OpampTopics.DispatchBatch;
export const DISPATCH_BATCH_REPLY_TOPIC = OpampTopics.DispatchBatchReply;

/** What to do to the agent's session; JSON-safe (bytes are base64). */
export type DispatchCommand =
  | { kind: 'remote_config'; hash: string; files: Record<string, { contentType: string; body: string }>; force: boolean; since?: number }
  | { kind: 'connection_settings'; offer: string }
  /** Offer the agent its packages now (read by the instance that holds the session). */
  | { kind: 'packages' }
  | { kind: 'disconnect'; reason: string };

/** The commands a session carries out at once (only a packages push reads the fleet first). */
export type ImmediateCommand = Exclude<DispatchCommand, { kind: 'packages' }>;

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

/**
 * One command for several agents whose sessions the receiving instance holds (decision 0390): a bulk
 * push travels as one envelope per owning instance instead of one per agent. Each agent carries the
 * fencing token of the lease the sender looked up, checked as in a single envelope.
 */
export interface DispatchBatchEnvelope {
  v: 1;
  id: string;
  tenantId: string;
  agents: Array<{ agentId: string; fencingToken: string }>;
  publishedAt: number;
  from: string;
  trace: TraceCarrier;
  command: DispatchCommand;
}

/** The outcomes of a batch, in the order of its agents. */
export interface DispatchBatchReply {
  v: 1;
  id: string;
  outcomes: ReceiverOutcome[];
}

/** `stale`: the receiver does not hold the session the envelope was addressed to (look again). */
export type ReceiverOutcome = DispatchOutcome | 'stale';

export interface DispatchReply {
  v: 1;
  id: string;
  outcome: ReceiverOutcome;
}

export function remoteConfigCommand(config: DesiredConfig, force: boolean, since?: number): Extract<DispatchCommand, { kind: 'remote_config' }> {
  const files: Record<string, { contentType: string; body: string }> = {};
  for (const [name, f] of Object.entries(config.files)) files[name] = { contentType: f.contentType, body: Buffer.from(f.body).toString('base64') };
  return { kind: 'remote_config', hash: config.hash, files, force, ...(since === undefined ? {} : { since }) };
}

/**
 * The config a `remote_config` command carries: the sessions' shared object of its hash (decision
 * 0427), decoded from the command only when no session holds that config yet. The agents of a batch,
 * and of every batch of one push, get the same object, encoded once on the wire.
 */
export function desiredFromCommand(command: Extract<DispatchCommand, { kind: 'remote_config' }>): DesiredConfig {
  return sharedDesiredConfig(command.hash, () => {
    const files: DesiredConfig['files'] = {};
    for (const [name, f] of Object.entries(command.files)) files[name] = { contentType: f.contentType, body: Buffer.from(f.body, 'base64') };
    return files;
  });
}

export function connectionSettingsCommand(offer: ConnectionSettingsOffers): DispatchCommand {
  return { kind: 'connection_settings', offer: Buffer.from(toBinary(ConnectionSettingsOffersSchema, offer)).toString('base64') };
}

export function offerFromCommand(command: Extract<DispatchCommand, { kind: 'connection_settings' }>): ConnectionSettingsOffers {
  return fromBinary(ConnectionSettingsOffersSchema, Buffer.from(command.offer, 'base64'));
}

const RECEIVER_OUTCOMES: ReadonlySet<string> = new Set([...DISPATCH_OUTCOMES, 'stale']);

const FENCING_TOKEN = /^\d{1,19}$/;

function validCommand(c: Partial<DispatchCommand> | undefined): boolean {
  if (!c) return false;
  if (c.kind === 'remote_config') return typeof c.hash === 'string' && Boolean(c.files) && typeof c.files === 'object';
  if (c.kind === 'connection_settings') return typeof c.offer === 'string';
  if (c.kind === 'disconnect') return typeof c.reason === 'string';
  if (c.kind === 'packages') return true;
  return false;
}

/** Checks the shape of an envelope that came off the backplane. */
export function parseEnvelope(body: unknown): DispatchEnvelope | undefined {
  const e = body as Partial<DispatchEnvelope> | null;
  if (!e || e.v !== 1 || typeof e.id !== 'string' || typeof e.tenantId !== 'string' || typeof e.agentId !== 'string') return undefined;
  if (typeof e.fencingToken !== 'string' || !FENCING_TOKEN.test(e.fencingToken) || typeof e.publishedAt !== 'number' || typeof e.from !== 'string') return undefined;
  return validCommand(e.command) ? (e as DispatchEnvelope) : undefined;
}

/** Checks the shape of a batch envelope that came off the backplane. */
export function parseBatchEnvelope(body: unknown): DispatchBatchEnvelope | undefined {
  const e = body as Partial<DispatchBatchEnvelope> | null;
  if (!e || e.v !== 1 || typeof e.id !== 'string' || typeof e.tenantId !== 'string' || !Array.isArray(e.agents) || e.agents.length === 0) return undefined;
  if (typeof e.publishedAt !== 'number' || typeof e.from !== 'string') return undefined;
  if (!e.agents.every((a) => a && typeof a.agentId === 'string' && typeof a.fencingToken === 'string' && FENCING_TOKEN.test(a.fencingToken))) return undefined;
  return validCommand(e.command) ? (e as DispatchBatchEnvelope) : undefined;
}

export function parseBatchReply(body: unknown): DispatchBatchReply | undefined {
  const r = body as Partial<DispatchBatchReply> | null;
  if (!r || r.v !== 1 || typeof r.id !== 'string' || !Array.isArray(r.outcomes) || !r.outcomes.every((o) => typeof o === 'string' && RECEIVER_OUTCOMES.has(o))) return undefined;
  return r as DispatchBatchReply;
}

export function parseReply(body: unknown): DispatchReply | undefined {
  const r = body as Partial<DispatchReply> | null;
  if (!r || r.v !== 1 || typeof r.id !== 'string' || typeof r.outcome !== 'string' || !RECEIVER_OUTCOMES.has(r.outcome)) return undefined;
  return r as DispatchReply;
}
