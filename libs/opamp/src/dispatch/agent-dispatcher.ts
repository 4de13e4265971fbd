import type { DesiredConfig } from '../ports';
import type { ConnectionSettingsOffers } from '../generated/opamp_pb';

export const AGENT_DISPATCHER = Symbol('ampora.opamp.AgentDispatcher');

export interface DispatchTarget {
  agentId: string;
  tenantId: string;
}

/**
 * - `delivered`: sent on the agent's live WebSocket;
 * - `queued`: the agent polls over HTTP and gets it with its next poll;
 * - `unchanged`: the agent already has it (nothing sent);
 * - `no_session`: no live session anywhere; the agent gets its assigned config when it connects;
 * - `cap_mismatch`: the agent's capabilities do not allow this push (never sent).
 */
export type DispatchOutcome = 'delivered' | 'queued' | 'unchanged' | 'no_session' | 'cap_mismatch';

/** Server → agent pushes. Callers persist what the agent should have before they push. */
export interface AgentDispatcher {
  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options?: { force?: boolean }): Promise<DispatchOutcome>;
  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome>;
  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome>;
}
