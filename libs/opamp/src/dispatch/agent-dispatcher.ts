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
export interface PushOptions {
  force?: boolean;
  since?: number;
}

export interface AgentDispatcher {
  /**
   * `force` re-sends a config the agent reports already; `since` (epoch ms, with `force`) is when the
   * change behind the push began: a session that offered this very hash since then has it from that
   * change (its attach or its lease's catch-up read it) and is not sent it twice (decision 0364).
   */
  pushRemoteConfig(target: DispatchTarget, config: DesiredConfig, options?: PushOptions): Promise<DispatchOutcome>;
  /**
   * The same config to many agents at once, their outcomes in the order of `targets`: the leases are
   * read in one statement and the pushes travel as one envelope per owning instance (decision 0390).
   * Optional: a dispatcher without it is called agent by agent (`pushRemoteConfigToMany`).
   */
  pushRemoteConfigMany?(targets: DispatchTarget[], config: DesiredConfig, options?: PushOptions): Promise<DispatchOutcome[]>;
  pushConnectionSettings(target: DispatchTarget, offer: ConnectionSettingsOffers): Promise<DispatchOutcome>;
  /**
   * The agent's packages changed (decision 0376): the instance holding its session reads what it is
   * assigned and sends PackagesAvailable now (`unchanged` when it has nothing new to offer).
   */
  pushPackages(target: DispatchTarget): Promise<DispatchOutcome>;
  disconnect(target: DispatchTarget, reason: string): Promise<DispatchOutcome>;
}

/** Pushes one config to many agents: batched when the dispatcher can, agent by agent otherwise. */
export function pushRemoteConfigToMany(dispatcher: AgentDispatcher, targets: DispatchTarget[], config: DesiredConfig, options: PushOptions = {}): Promise<DispatchOutcome[]> {
  if (targets.length === 0) return Promise.resolve([]);
  if (dispatcher.pushRemoteConfigMany) return dispatcher.pushRemoteConfigMany(targets, config, options);
  return Promise.all(targets.map((t) => dispatcher.pushRemoteConfig(t, config, options)));
}
