import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger } from '@ampora/platform';
import { AgentToServer, AgentToServerFlags } from '../generated/opamp_pb';
import { OpampPorts } from '../opamp-ports';
import { AgentSession } from './agent-session';
import type { ConnectionState } from './connection-state';
import { SessionRegistry } from './session-registry';

/** `enrolled`: the attach made the agent (its first connection), as the authenticator says. */
export type AttachResult = { ok: true; session: AgentSession; newUid?: Buffer; enrolled: boolean } | { ok: false; reason: string };

/**
 * The first frame of a connection: binds its credential to an agent (the authenticator port redeems a
 * bootstrap token or finds a certificate's agent) and opens the agent's session here, replacing an
 * older connection of the same agent and keeping what earlier sessions learnt.
 */
@Injectable()
export class SessionAttacher {
  private readonly log = createLogger('Ampora.OpAmp.Core');

  constructor(
    private readonly registry: SessionRegistry,
    private readonly ports: OpampPorts,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async attach(conn: ConnectionState, message: AgentToServer): Promise<AttachResult> {
    const outcome = await this.ports.required('authenticator').attach({
      credential: conn.credential,
      instanceUid: message.instanceUid,
      requestNewUid: Boolean(message.flags & BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid)),
      capabilities: message.capabilities,
      transport: conn.handle.transport,
    });
    if (!outcome.ok) return outcome;
    const agent = outcome.agent;
    const session = new AgentSession(agent, conn.credential, conn.handle.transport, conn.handle.send ? conn.handle : undefined);
    session.attachedAt = session.lastSeen = this.clock.nowMs();
    const replaced = this.registry.add(session);
    if (replaced?.connection && replaced.connection !== conn.handle) {
      this.log.info('Agent {AgentId} connected again; closing its older connection', { AgentId: agent.agentId });
      replaced.connection.close?.(4000, 'superseded by a newer connection');
    }
    // keep what an earlier session of this agent learnt (it may not be in the database yet)
    const memory = replaced ? undefined : this.registry.recall(agent.agentId);
    const earlier = replaced ?? memory;
    if (earlier) {
      session.failedConfigHash = earlier.failedConfigHash ?? session.failedConfigHash;
      session.reportedConfigHash = earlier.reportedConfigHash ?? session.reportedConfigHash;
      for (const [k, v] of earlier.pushedAt) session.pushedAt.set(k, v);
    }
    // An HTTP agent re-checked after a while (AMPORA_OPAMP_HTTP_RECHECK_SECONDS) keeps its session: same
    // sequence, same offers; it did not connect again.
    const recheck = replaced !== undefined && replaced.transport === 'http' && conn.handle.transport === 'http';
    if (recheck) {
      session.lastSeq = replaced.lastSeq;
      session.frames = replaced.frames;
      session.capabilities = replaced.capabilities;
      session.offeredHash = replaced.offeredHash;
      session.offeredAt = replaced.offeredAt;
      session.askFullState = replaced.askFullState;
      session.firstReplyPending = replaced.firstReplyPending;
      session.connectionSettingsHash = replaced.connectionSettingsHash;
      session.outbox.push(...replaced.outbox.splice(0));
    }
    conn.session = session;
    session.mtls = conn.mtls ?? replaced?.mtls;
    if (conn.credential.kind === 'bootstrap' && !conn.credential.boundAgentId) conn.credential.boundAgentId = agent.agentId;
    if (!recheck) this.ports.required('stateSink').connected(agent, { transport: conn.handle.transport, instanceId: this.config.app.instanceId, at: this.clock.now() });
    this.log.debug('Agent {AgentId} attached over {Transport}', { AgentId: agent.agentId, Transport: conn.handle.transport });
    return { ok: true, session, newUid: agent.uidChanged ? agent.instanceUid : undefined, enrolled: agent.enrolled === true };
  }

  /** RequestInstanceUid on a later frame: the authenticator gives the agent a new uid. */
  reassignInstanceUid(session: AgentSession): Promise<Buffer> {
    return this.ports.required('authenticator').reassignInstanceUid(session.agentId);
  }

  /** The session now answers to `newUid` (frames in flight with the old one are still accepted). */
  adoptInstanceUid(session: AgentSession, newUid: Buffer): void {
    if (session.instanceUid.equals(newUid)) return;
    const old = session.instanceUid;
    session.previousUid = old;
    session.instanceUid = newUid;
    this.registry.reindex(session, old);
  }
}
