import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, injectTraceContext } from '@ampora/platform';
import { ServerToAgent, ServerToAgentFlags } from '../generated/opamp_pb';
import { OpampPorts } from '../opamp-ports';
import type { DesiredConfig } from '../ports';
import { configMapHash } from '../protocol/config-hash';
import type { AgentSession } from './agent-session';
import { shouldOfferRemoteConfig } from './offer-policy';

/**
 * Remote config offers: whether a reply carries the agent's desired config (offer-policy.ts decides:
 * capabilities, the rollback trap, what it already runs, re-offers), putting it on a message, and
 * what a push from the dispatcher changes in the session.
 */
@Injectable()
export class RemoteConfigOffers {
  constructor(
    private readonly ports: OpampPorts,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** Whether this reply should carry the desired config. */
  due(session: AgentSession, now: number): boolean {
    return shouldOfferRemoteConfig(
      {
        capabilities: session.capabilities,
        desiredHash: session.desired?.hash,
        reportedHash: session.reportedConfigHash,
        failedHash: session.failedConfigHash,
        offeredHash: session.offeredHash,
        offeredAt: session.offeredAt,
        firstReplyOfConnection: session.firstReplyPending,
        transport: session.transport,
      },
      now,
      this.config.opamp.heartbeatIntervalSeconds * 2000,
    );
  }

  /** Puts the desired config on `message` and records the offer (and the push time, for push → APPLIED). */
  attach(message: ServerToAgent, session: AgentSession, now: number): void {
    const desired = session.desired!;
    message.remoteConfig = toRemoteConfig(desired);
    session.offeredHash = desired.hash;
    session.offeredAt = now;
    if (session.askFullState) {
      // a forced push asks the agent to report its state again: an agent that already runs this hash
      // (a Supervisor restored it by itself) may not report an unchanged status otherwise
      message.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
      session.askFullState = false;
    }
    if (!session.pushedAt.has(desired.hash)) session.pushedAt.set(desired.hash, now);
    session.pushTraces.set(desired.hash, injectTraceContext());
    this.ports.required('stateSink').remoteConfigSent?.(session, desired.hash, new Date(now));
  }

  /**
   * A push sets the agent's desired config. `force` re-sends even when the agent already reports the
   * same hash or reported it FAILED, unless this session offered that hash at or after `since` (the
   * change behind the push had reached the session already: its attach or its lease's catch-up read
   * it, so the forced push would be a second copy of the same change; decision 0364). `send` when it
   * is to go out now (WebSocket), `queued` when the next poll takes it (HTTP), `unchanged` when the
   * agent has it.
   */
  accept(session: AgentSession, desired: DesiredConfig, force: boolean, since?: number): 'send' | 'queued' | 'unchanged' {
    session.desired = desired;
    session.pushesAccepted += 1;
    if (force && since !== undefined && session.offeredHash === desired.hash && session.offeredAt !== undefined && session.offeredAt >= since) return 'unchanged';
    if (force) {
      session.askFullState = true;
      session.offeredHash = undefined;
      if (session.failedConfigHash === desired.hash) session.failedConfigHash = undefined;
      if (session.reportedConfigHash === desired.hash) session.reportedConfigHash = undefined;
    } else if (session.reportedConfigHash === desired.hash || session.offeredHash === desired.hash) {
      return 'unchanged';
    }
    if (session.transport === 'http' || !session.connection?.send) {
      session.offeredHash = undefined;
      return 'queued';
    }
    return 'send';
  }
}

/** The AgentRemoteConfig of each desired config object, made once (the sessions a push reached share it). */
const remoteConfigs = new WeakMap<DesiredConfig, NonNullable<ServerToAgent['remoteConfig']>>();

/** The message part for a desired config: the same object for the same desired config, never to be modified. */
export function toRemoteConfig(desired: DesiredConfig): NonNullable<ServerToAgent['remoteConfig']> {
  const known = remoteConfigs.get(desired);
  if (known) return known;
  const made = makeRemoteConfig(desired);
  remoteConfigs.set(desired, made);
  return made;
}

function makeRemoteConfig(desired: DesiredConfig): NonNullable<ServerToAgent['remoteConfig']> {
  const configMap: Record<string, { $typeName: 'opamp.proto.v1.AgentConfigFile'; body: Uint8Array; contentType: string }> = {};
  for (const [k, f] of Object.entries(desired.files)) configMap[k] = { $typeName: 'opamp.proto.v1.AgentConfigFile', body: f.body, contentType: f.contentType };
  return {
    $typeName: 'opamp.proto.v1.AgentRemoteConfig',
    config: { $typeName: 'opamp.proto.v1.AgentConfigMap', configMap },
    configHash: Buffer.from(desired.hash, 'hex'),
  };
}

/** A desired config from files, with its deterministic hash. */
export function desiredConfig(files: DesiredConfig['files']): DesiredConfig {
  return { files, hash: configMapHash(files).toString('hex') };
}
