import type { Backplane } from '@ampora/platform';
import type { DispatchBatchEnvelope, DispatchBatchReply, DispatchEnvelope, DispatchReply } from './dispatch/dispatch-envelope';

/**
 * What libs/opamp says to other instances, over the backplane. OpAMP publishes no live (SSE) domain
 * events of its own: what agents report reaches the live bus through the state sink (fleet), which
 * publishes FleetEvents.
 */
export const OpampTopics = {
  /** A push for an agent whose session another instance holds (to that instance). */
  Dispatch: 'dispatch',
  /** The outcome of a forwarded push (to the instance that forwarded it). */
  DispatchReply: 'dispatch.reply',
  /** One push for several agents whose sessions that instance holds (decision 0390). */
  DispatchBatch: 'dispatch.batch',
  /** The outcomes of a batch, agent by agent (to the instance that sent it). */
  DispatchBatchReply: 'dispatch.batch.reply',
  /** "A newer session of this agent holds the lease now" (to the previous holder). */
  LeaseRevoked: 'lease.revoked',
} as const;

export type OpampTopic = (typeof OpampTopics)[keyof typeof OpampTopics];

export interface LeaseRevokedNotice {
  agentId: string;
  /** The new lease's fencing token (a decimal bigint). */
  fencingToken: string;
}

/** The body each topic carries (what a receiver checks it against: parseEnvelope, parseReply). */
export interface OpampTopicBodies {
  [OpampTopics.Dispatch]: DispatchEnvelope;
  [OpampTopics.DispatchReply]: DispatchReply;
  [OpampTopics.DispatchBatch]: DispatchBatchEnvelope;
  [OpampTopics.DispatchBatchReply]: DispatchBatchReply;
  [OpampTopics.LeaseRevoked]: LeaseRevokedNotice;
}

/** Sends one OpAMP message to `instance`, its body checked against its topic at compile time. */
export function sendToInstance<T extends OpampTopic>(backplane: Backplane, instance: string, topic: T, body: OpampTopicBodies[T]): Promise<void> {
  return backplane.send(instance, topic, body);
}
