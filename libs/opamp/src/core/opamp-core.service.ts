import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Clock, createLogger, Metrics, RequestContext, Span, SpanKind, TenantLabels, withSpanMaybeAsync, withSpanSync } from '@ampora/platform';
import { AgentToServer, AgentToServerFlags, ConnectionSettingsOffers, ServerErrorResponseType, ServerToAgent, ServerToAgentFlags } from '../generated/opamp_pb';
import { OpampPorts } from '../opamp-ports';
import type { AgentReport, DesiredConfig, DisconnectInfo, PackageOffers, Transport } from '../ports';
import { neutralisedAny, NeutralisedReason, sanitizeReport } from '../domain/report-sanitizer';
import { AgentCap, hasCapability, ServerCap } from '../protocol/capabilities';
import { errorReply, packagesAvailable, serverToAgent } from '../protocol/codec';
import { agentFrameKind, serverFrameKind } from '../protocol/frame-kind';
import { AgentSession, credentialKey } from './agent-session';
import { ConnectionState, HandleResult } from './connection-state';
import type { AgentToServerPartHandler, FrameContext } from './frame-context';
import { AgentDescriptionHandler } from './handlers/agent-description.handler';
import { CapabilitiesHandler } from './handlers/capabilities.handler';
import { ConnectionSettingsHandler } from './handlers/connection-settings.handler';
import { DisconnectHandler } from './handlers/disconnect.handler';
import { EffectiveConfigHandler } from './handlers/effective-config.handler';
import { HealthHandler } from './handlers/health.handler';
import { PackageStatusesHandler } from './handlers/package-statuses.handler';
import { RemoteConfigStatusHandler } from './handlers/remote-config-status.handler';
import { RemoteConfigOffers } from './remote-config-offers';
import { SessionAttacher } from './session-attacher';
import { SessionEnder } from './session-ender';
import { SessionRegistry } from './session-registry';

/**
 * The transport-agnostic heart of the protocol: AgentToServer + connection → ServerToAgent. It
 * attaches a connection's first frame (SessionAttacher), tracks sequence numbers, hands each part of
 * the frame to its handler (handlers/), reports what changed to the state sink, and builds the reply
 * (connection settings, remote config offers, what pushes left for the next poll).
 */
@Injectable()
export class OpampCore implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.OpAmp.Core');
  private serverCapabilities = ServerCap.AcceptsStatus | ServerCap.OffersRemoteConfig | ServerCap.AcceptsEffectiveConfig | ServerCap.OffersConnectionSettings;
  private readonly parts: AgentToServerPartHandler[];

  constructor(
    readonly registry: SessionRegistry,
    private readonly ports: OpampPorts,
    private readonly clock: Clock,
    private readonly attacher: SessionAttacher,
    private readonly sessions: SessionEnder,
    private readonly offers: RemoteConfigOffers,
    private readonly connectionSettings: ConnectionSettingsHandler,
    private readonly disconnects: DisconnectHandler,
    description: AgentDescriptionHandler,
    capabilities: CapabilitiesHandler,
    health: HealthHandler,
    effectiveConfig: EffectiveConfigHandler,
    remoteConfigStatus: RemoteConfigStatusHandler,
    packageStatuses: PackageStatusesHandler,
  ) {
    this.parts = [capabilities, description, health, effectiveConfig, remoteConfigStatus, packageStatuses, connectionSettings];
  }

  onApplicationBootstrap(): void {
    // the required ports fail the start here when no module bound them
    this.ports.required('authenticator');
    this.ports.required('stateSink');
    if (this.connectionSettings.acceptsCertificateRequests) this.serverCapabilities |= ServerCap.AcceptsConnectionSettingsRequest;
    if (this.ports.optional('packageOffers')) this.serverCapabilities |= ServerCap.OffersPackages | ServerCap.AcceptsPackagesStatus;
  }

  get capabilities(): bigint {
    return this.serverCapabilities;
  }

  /**
   * Handles one decoded message. Never throws for protocol problems: they become rejects. The answer
   * comes at once when nothing had to wait (a heartbeat of an attached session: no promise, no
   * async-hook work); a promise when the frame waits for the database (the first frame's attach, a new
   * instance_uid) or for a certificate (a CSR).
   */
  handle(conn: ConnectionState, message: AgentToServer, sizeBytes: number): HandleResult | Promise<HandleResult> {
    const kind = agentFrameKind(message);
    const tenantId = conn.session?.tenantId ?? conn.credential.tenantId;
    const tenant = TenantLabels.of(tenantId);
    Metrics.add('ampora_opamp_frames_received_total', 1, { tenant, frame_kind: kind });
    return RequestContext.run({ tenantId }, () =>
      withSpanMaybeAsync(
        'opamp.frame_received',
        { kind: SpanKind.SERVER, attributes: { 'agent.id': conn.session?.agentId ?? '', 'frame.kind': kind, 'frame.size_bytes': sizeBytes, 'network.transport': conn.handle.transport } },
        (span) => {
          const result = this.process(conn, message);
          return result instanceof Promise ? result.then((r) => this.handled(conn, span, r)) : this.handled(conn, span, result);
        },
      ),
    );
  }

  private handled(conn: ConnectionState, span: Span, result: HandleResult): HandleResult {
    if (conn.session) span.setAttribute('agent.id', conn.session.agentId);
    if (result.kind === 'reply') this.traceSent(conn.session, result.reply);
    return result;
  }

  private process(conn: ConnectionState, message: AgentToServer): HandleResult | Promise<HandleResult> {
    const uid = message.instanceUid;
    if (uid.length !== 16) {
      return { kind: 'reject', reason: 'malformed', message: 'instance_uid must be 16 bytes', reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'instance_uid must be 16 bytes (a UUID)') };
    }
    const session = conn.session;
    if (session && !session.instanceUid.equals(uid) && !session.previousUid?.equals(uid)) {
      return { kind: 'reject', reason: 'malformed', message: 'instance_uid changed within a connection', reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `this connection belongs to instance_uid ${session.uidText}`) };
    }
    const now = this.clock.nowMs();
    if (session) return this.proceed(conn, session, message, now, undefined, false);
    return this.attacher.attach(conn, message).then((attached): HandleResult | Promise<HandleResult> => {
      if (!attached.ok) return { kind: 'reject', reason: 'auth_failed', message: attached.reason };
      // the authenticator says whether it made the agent (the credential is bound by the attach itself)
      return this.proceed(conn, attached.session, message, now, attached.newUid, attached.enrolled);
    });
  }

  /** The frame of an attached session: sequence, the parts' handlers, the state sink, the reply. */
  private proceed(conn: ConnectionState, session: AgentSession, message: AgentToServer, now: number, newUid: Buffer | undefined, justEnrolled: boolean): HandleResult | Promise<HandleResult> {
    session.lastSeen = now;
    session.frames += 1;
    const frame: FrameContext = { conn, session, message, report: {}, now, replyFlags: this.sequenceFlags(session, message), justEnrolled };
    if (!newUid && message.flags & REQUEST_INSTANCE_UID) return this.attacher.reassignInstanceUid(session).then((uid) => this.report(frame, uid));
    return this.report(frame, newUid);
  }

  private report(frame: FrameContext, newUid: Buffer | undefined): HandleResult | Promise<HandleResult> {
    const { session, message } = frame;
    const uid = message.instanceUid;
    const renamed = newUid !== undefined && !newUid.equals(uid);
    if (renamed) {
      this.attacher.adoptInstanceUid(session, newUid);
      frame.report.instanceUid = newUid;
    }
    for (const part of this.parts) part.handle(frame);
    this.ports.required('stateSink').report(session, this.neutralise(session, frame.report), new Date(frame.now));

    const reply = serverToAgent({ instanceUid: uid, capabilities: this.serverCapabilities, flags: frame.replyFlags });
    if (renamed) reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: newUid };
    const settings = this.connectionSettings.offerable(frame);
    if (!settings) return this.reply(frame, reply);
    return this.connectionSettings.offerFor(frame, settings).then(
      (offer) => {
        if (offer) reply.connectionSettings = offer;
        return this.reply(frame, reply);
      },
      (error: unknown): HandleResult => ({
        kind: 'reply',
        reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `certificate request refused: ${error instanceof Error ? error.message : String(error)}`),
      }),
    );
  }

  /** The reply's remote config and packages offers and what pushes left for it; the end of the session on AgentDisconnect. */
  private reply(frame: FrameContext, reply: ServerToAgent): HandleResult | Promise<HandleResult> {
    const { session, now } = frame;
    if (this.offers.due(session, now)) this.offers.attach(reply, session, now);
    const packages = this.ports.optional('packageOffers');
    if (packages && hasCapability(session.capabilities, AgentCap.AcceptsPackages)) return this.offerPackages(packages, session, reply).then(() => this.close(frame, reply));
    return this.close(frame, reply);
  }

  private close(frame: FrameContext, reply: ServerToAgent): HandleResult {
    const { session } = frame;
    for (const pending of session.outbox.splice(0)) Object.assign(reply, pending);
    session.firstReplyPending = false;
    if (this.disconnects.handleLeaving(frame)) return { kind: 'reply', reply, closeAfter: true };
    return { kind: 'reply', reply };
  }

  /** PackagesAvailable for an agent that accepts packages, when the fleet has something new for it (issue 20 item 4). */
  private async offerPackages(port: PackageOffers, session: AgentSession, reply: ServerToAgent): Promise<void> {
    const offer = await port.offerFor(session, session.packagesOfferedHash);
    if (!offer) return;
    reply.packagesAvailable = packagesAvailable(offer);
    session.packagesOfferedHash = offer.allPackagesHash.toString('hex');
  }

  /**
   * Sequence numbers: a gap (or no state for this agent in this process) with a compressed message
   * means we may have missed a change: the reply asks for the full state.
   */
  private sequenceFlags(session: AgentSession, message: AgentToServer): bigint {
    const gap = session.lastSeq !== undefined && message.sequenceNum !== session.lastSeq + 1n;
    const noState = session.frames === 1 && !message.agentDescription;
    session.lastSeq = message.sequenceNum;
    return (gap || noState) && isCompressed(message) ? BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState) : 0n;
  }

  /** The report with every string made safe to store (NUL, unpaired surrogates, lengths), counted. */
  private neutralise(session: AgentSession, report: AgentReport): AgentReport {
    const { report: clean, tally } = sanitizeReport(report);
    if (!neutralisedAny(tally)) return clean;
    const tenant = TenantLabels.of(session.tenantId);
    for (const [reason, n] of Object.entries(tally) as Array<[NeutralisedReason, number]>) if (n > 0) Metrics.add('ampora_opamp_strings_neutralised_total', n, { tenant, reason });
    if (!session.neutralisedLogged) {
      session.neutralisedLogged = true;
      this.log.warn('Agent {AgentId} reported strings that cannot be stored as sent; stored neutralised ({Neutralised})', {
        AgentId: session.agentId,
        Neutralised: Object.entries(tally).filter(([, n]) => n > 0).map(([r, n]) => `${r}: ${n}`).join(', '),
      });
    }
    return clean;
  }

  // ---- pushes from the dispatcher -------------------------------------------------------------

  /**
   * Sets the agent's desired config and delivers it now (WebSocket) or with the next poll (HTTP).
   * `force` re-sends even when the agent already reports the same hash or reported it FAILED.
   */
  pushRemoteConfig(session: AgentSession, desired: DesiredConfig, force: boolean, since?: number): 'delivered' | 'queued' | 'unchanged' {
    const now = this.clock.nowMs();
    const accepted = this.offers.accept(session, desired, force, since);
    if (accepted !== 'send') return accepted;
    const message = serverToAgent({ instanceUid: session.instanceUid, capabilities: this.serverCapabilities });
    this.offers.attach(message, session, now);
    this.sendOn(session, message);
    return 'delivered';
  }

  /**
   * Once the session's lease is taken: sends what the agent was assigned since attach read its
   * assignment. A push in that window looked for the lease, found none and answered no_session; from
   * the lease on, pushes find this session. A push that reached the session meanwhile is newer and wins.
   * The lease keeper calls it again for a session whose lease had lapsed before a renewal (decision 0426).
   */
  async refreshAssignment(session: AgentSession, why = 'while it connected'): Promise<'pushed' | 'unchanged'> {
    const authenticator = this.ports.required('authenticator');
    if (!authenticator.assignmentSince || session.closed || !hasCapability(session.capabilities, AgentCap.AcceptsRemoteConfig)) return 'unchanged';
    const known = session.desired;
    const pushes = session.pushesAccepted;
    const now = await authenticator.assignmentSince({ agentId: session.agentId, tenantId: session.tenantId }, known?.hash);
    if (!now || session.closed || session.pushesAccepted !== pushes) return 'unchanged';
    const outcome = this.pushRemoteConfig(session, now, false);
    RequestContext.run({ tenantId: session.tenantId }, () =>
      this.log.info('Agent {AgentId} was assigned config {ConfigHash} {Why}; sent it ({Outcome})', { AgentId: session.agentId, ConfigHash: now.hash, Why: why, Outcome: outcome }),
    );
    return outcome === 'unchanged' ? 'unchanged' : 'pushed';
  }

  /**
   * The agent's packages changed (decision 0376): reads its offer now (not at the port's next
   * recheck) and sends PackagesAvailable on the WebSocket, or with the next poll over HTTP.
   * `unchanged` when the session was already offered exactly this (or there is nothing to offer).
   */
  async pushPackages(session: AgentSession): Promise<'delivered' | 'queued' | 'unchanged'> {
    const port = this.ports.optional('packageOffers');
    if (!port) return 'unchanged';
    const offer = await port.offerFor(session, session.packagesOfferedHash, { fresh: true });
    if (!offer || session.closed) return 'unchanged';
    session.packagesOfferedHash = offer.allPackagesHash.toString('hex');
    const packages = packagesAvailable(offer);
    if (session.transport === 'http' || !session.connection?.send) {
      session.outbox.push({ packagesAvailable: packages });
      return 'queued';
    }
    this.sendOn(session, serverToAgent({ instanceUid: session.instanceUid, capabilities: this.serverCapabilities, packagesAvailable: packages }));
    return 'delivered';
  }

  /** Sends connection settings (a renewed certificate, say) now or with the next poll. */
  pushConnectionSettings(session: AgentSession, offer: ConnectionSettingsOffers): 'delivered' | 'queued' {
    session.connectionSettingsHash = this.connectionSettings.seal(offer);
    if (session.transport === 'http' || !session.connection?.send) {
      session.outbox.push({ connectionSettings: offer });
      return 'queued';
    }
    this.sendOn(session, serverToAgent({ instanceUid: session.instanceUid, capabilities: this.serverCapabilities, connectionSettings: offer }));
    return 'delivered';
  }

  /** Closes the agent's session on this instance (WebSocket closed; HTTP forgotten). */
  disconnect(session: AgentSession, reason: string): void {
    this.sessions.disconnect(session, reason);
  }

  /** A newer session of this agent holds its lease on another instance: closes this stale one. */
  supersede(session: AgentSession, reason: string): void {
    this.sessions.supersede(session, reason);
  }

  /** Ends every session of this instance (shutdown): their agents are recorded as disconnected. */
  endAll(): void {
    this.sessions.endAll();
  }

  /** The session ended (socket closed, AgentDisconnect, idle HTTP agent). */
  end(session: AgentSession, at: Date, info?: DisconnectInfo): void {
    this.sessions.end(session, at, info);
  }

  private sendOn(session: AgentSession, message: ServerToAgent): void {
    RequestContext.run({ tenantId: session.tenantId }, () => {
      this.traceSent(session, message);
      session.connection!.send!(message);
    });
  }

  private traceSent(session: AgentSession | undefined, message: ServerToAgent): void {
    withSpanSync('opamp.frame_sent', { kind: SpanKind.PRODUCER, attributes: { 'agent.id': session?.agentId ?? '', 'frame.kind': serverFrameKind(message) } }, () => undefined);
  }
}

const REQUEST_INSTANCE_UID = BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid);

/** A message that leaves out something its capabilities say it reports. */
function isCompressed(m: AgentToServer): boolean {
  const caps = m.capabilities;
  return (
    !m.agentDescription ||
    (hasCapability(caps, AgentCap.ReportsHealth) && !m.health) ||
    (hasCapability(caps, AgentCap.ReportsEffectiveConfig) && !m.effectiveConfig) ||
    (hasCapability(caps, AgentCap.ReportsRemoteConfig) && !m.remoteConfigStatus)
  );
}

export { toRemoteConfig, desiredConfig } from './remote-config-offers';
export { credentialKey, Transport, ConnectionState, HandleResult };
