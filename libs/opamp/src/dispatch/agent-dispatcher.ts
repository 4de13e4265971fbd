import type { DesiredConfig } from '../ports';
import type { ConnectionSettingsOffers } from '../generated/opamp_pb';

export const AGENT_DISPATCHER = Symbol('ampora.opamp.AgentDispatcher');

export interface DispatchTarget {
  agentId: string;
  tenantId: string;
}

/**
 * - `delivered`: sent on the agent's live WebSocket (on whichever instance holds it);
 * - `queued`: the agent polls over HTTP and gets it with its next poll;
 * - `unchanged`: the agent already has it (nothing sent);
 * - `no_session`: no live session anywhere; the agent gets its assigned config when it connects;
 * - `cap_mismatch`: the agent's capabilities do not allow this push (never sent);
 * - `unconfirmed`: handed to the instance that holds the agent, which did not answer in time (it may
 *   be stopping or overloaded); the agent gets its assigned config when it next connects at the latest.
 */
export const DISPATCH_OUTCOMES = ['delivered', 'queued', 'unchanged', 'no_session', 'cap_mismatch', 'unconfirmed'] as const;
export type DispatchOutcome = (typeof DISPATCH_OUTCOMES)[number];

/**
 * Server → agent pushes. Callers persist what the agent should have before they push. Works in every
 * process: the push is delivered here when this instance holds the agent's session, and forwarded
 * over the backplane to the instance that does otherwise (the worker always forwards).
 */
export interface AgentDispatcher {
  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options?: { force?: boolean }): Promise<DispatchOutcome>;
  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome>;
  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome>;
}
