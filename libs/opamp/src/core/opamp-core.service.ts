import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { create, toBinary, toJson } from '@bufbuild/protobuf';
import {
  AMPORA_CONFIG,
  AmporaConfig,
  createLogger,
  Metrics,
  RequestContext,
  SpanKind,
  TenantLabels,
  withSpan,
  withSpanSync,
} from '@ampora/platform';
import {
  AgentToServer,
  AgentToServerFlags,
  ConnectionSettingsOffers,
  ConnectionSettingsOffersSchema,
  PackageStatusesSchema,
  RemoteConfigStatuses,
  ServerErrorResponseType,
  ServerToAgent,
  ServerToAgentFlags,
} from '../generated/opamp_pb';
import {
  AgentAuthenticator,
  AgentCredential,
  AgentReport,
  AgentStateSink,
  ConnectionSettingsProvider,
  DesiredConfig,
  DisconnectInfo,
  MtlsTarget,
  RemoteConfigStatusName,
  Transport,
} from '../ports';
import { neutralisedAny, neutraliseText, NeutralisedReason, REPORT_LIMITS, sanitizeReport } from '../domain/report-sanitizer';
import { AgentCap, hasCapability, ServerCap } from '../protocol/capabilities';
import { availableComponentsToJson, configMapToFiles, errorReply, healthToJson, JsonValue, keyValuesToJson, serverToAgent } from '../protocol/codec';
import { configContentHash, configMapHash, toHex } from '../protocol/config-hash';
import { agentFrameKind, serverFrameKind } from '../protocol/frame-kind';
import { AgentSession, ConnectionHandle, credentialKey } from './agent-session';
import { shouldOfferRemoteConfig } from './offer-policy';
import { SessionRegistry } from './session-registry';
import { ConnectionState, HandleResult } from './connection-state';
import { OpampPorts } from '../opamp-ports';

const STATUS_NAMES: Record<number, RemoteConfigStatusName> = {
  [RemoteConfigStatuses.RemoteConfigStatuses_UNSET]: 'UNSET',
  [RemoteConfigStatuses.RemoteConfigStatuses_APPLIED]: 'APPLIED',
  [RemoteConfigStatuses.RemoteConfigStatuses_APPLYING]: 'APPLYING',
  [RemoteConfigStatuses.RemoteConfigStatuses_FAILED]: 'FAILED',
};

/**
 * The transport-agnostic heart of the protocol: AgentToServer + connection → ServerToAgent.
 * Authentication of the first frame, sequence tracking, status reports, remote config offers (with
 * the rollback trap handled), connection settings offers, and the replies' capabilities.
 */
@Injectable()
export class OpampCore implements OnApplicationBootstrap {
  private readonly log = createLogger('Ampora.OpAmp.Core');
  private authenticator!: AgentAuthenticator;
  private sink!: AgentStateSink;
  private settings?: ConnectionSettingsProvider;
  private serverCapabilities = ServerCap.AcceptsStatus | ServerCap.OffersRemoteConfig | ServerCap.AcceptsEffectiveConfig | ServerCap.OffersConnectionSettings;

  constructor(
    private readonly ports: OpampPorts,
    readonly registry: SessionRegistry,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.authenticator = this.ports.required('authenticator');
    this.sink = this.ports.required('stateSink');
    this.settings = this.ports.optional('connectionSettings');
    if (this.settings?.acceptsCertificateRequests) this.serverCapabilities |= ServerCap.AcceptsConnectionSettingsRequest;
  }

  get capabilities(): bigint {
    return this.serverCapabilities;
  }

  get authenticatorPort(): AgentAuthenticator {
    return this.authenticator;
  }

  /** Handles one decoded message. Never throws for protocol problems: they become rejects. */
  async handle(conn: ConnectionState, message: AgentToServer, sizeBytes: number): Promise<HandleResult> {
    const kind = agentFrameKind(message);
    const tenantId = conn.session?.tenantId ?? conn.credential.tenantId;
    const tenant = TenantLabels.of(tenantId);
    Metrics.add('ampora_opamp_frames_received_total', 1, { tenant, frame_kind: kind });
    return RequestContext.run({ tenantId }, () =>
      withSpan(
        'opamp.frame_received',
        { kind: SpanKind.SERVER, attributes: { 'agent.id': conn.session?.agentId ?? '', 'frame.kind': kind, 'frame.size_bytes': sizeBytes, 'network.transport': conn.handle.transport } },
        async (span) => {
          const result = await this.process(conn, message);
          if (conn.session) span.setAttribute('agent.id', conn.session.agentId);
          if (result.kind === 'reply') this.traceSent(conn.session, result.reply);
          return result;
        },
      ),
    );
  }

  private async process(conn: ConnectionState, message: AgentToServer): Promise<HandleResult> {
    const uid = message.instanceUid;
    if (uid.length !== 16) {
      return { kind: 'reject', reason: 'malformed', message: 'instance_uid must be 16 bytes', reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, 'instance_uid must be 16 bytes (a UUID)') };
    }
    let session = conn.session;
    let justEnrolled = false;
    if (session && !session.instanceUid.equals(uid) && !session.previousUid?.equals(uid)) {
      return { kind: 'reject', reason: 'malformed', message: 'instance_uid changed within a connection', reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `this connection belongs to instance_uid ${session.uidText}`) };
    }
    const now = Date.now();
    let newUid: Buffer | undefined;
    if (!session) {
      const attached = await this.attach(conn, message);
      if (!attached.ok) return { kind: 'reject', reason: 'auth_failed', message: attached.reason };
      session = attached.session;
      newUid = attached.newUid;
      justEnrolled = conn.credential.kind === 'bootstrap' && !conn.credential.boundAgentId;
    }
    session.lastSeen = now;
    session.frames += 1;

    const report: AgentReport = {};
    let flags = 0n;
    // Sequence numbers: a gap (or no state for this agent in this process) with a compressed message
    // means we may have missed a change: ask for the full state.
    const compressed = this.isCompressed(message);
    const gap = session.lastSeq !== undefined && message.sequenceNum !== session.lastSeq + 1n;
    const noState = session.frames === 1 && !message.agentDescription;
    if ((gap || noState) && compressed) flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
    session.lastSeq = message.sequenceNum;

    if (message.capabilities !== session.capabilities) {
      session.capabilities = message.capabilities;
      report.capabilities = message.capabilities;
    }
    if (!newUid && message.flags & BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid)) {
      newUid = await this.authenticator.reassignInstanceUid(session.agentId);
    }
    if (newUid && !newUid.equals(uid)) {
      if (!session.instanceUid.equals(newUid)) {
        const old = session.instanceUid;
        session.previousUid = old;
        session.instanceUid = newUid;
        this.registry.reindex(session, old);
      }
      report.instanceUid = newUid;
    }
    if (message.agentDescription) {
      report.description = {
        identifying: keyValuesToJson(message.agentDescription.identifyingAttributes),
        nonIdentifying: keyValuesToJson(message.agentDescription.nonIdentifyingAttributes),
      };
      const type = report.description.identifying['service.name'];
      if (typeof type === 'string' && type) session.agentType = neutraliseText(type, REPORT_LIMITS.valueChars);
    }
    if (message.health) report.health = healthToJson(message.health);
    if (message.effectiveConfig) {
      const files = configMapToFiles(message.effectiveConfig.configMap);
      report.effectiveConfig = { files, contentHash: configContentHash(files) };
    }
    if (message.remoteConfigStatus) this.onRemoteConfigStatus(session, message, report);
    if (message.packageStatuses) report.packageStatuses = toJson(PackageStatusesSchema, message.packageStatuses) as AgentReport['packageStatuses'];
    if (message.availableComponents) {
      if (Object.keys(message.availableComponents.components).length > 0) {
        report.availableComponents = availableComponentsToJson(message.availableComponents) as unknown as JsonValue;
      } else if (message.availableComponents.hash.length > 0) {
        // the handshake sends only the hash first; we keep no catalogue per hash yet, so ask for it
        flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportAvailableComponents);
      }
    }
    if (message.connectionSettingsStatus) {
      const s = message.connectionSettingsStatus;
      report.connectionSettingsStatus = { status: String(s.status), hash: toHex(s.lastConnectionSettingsHash), errorMessage: s.errorMessage };
    }
    if (message.customCapabilities) report.customCapabilities = [...message.customCapabilities.capabilities];

    this.sink.report(session, this.neutralise(session, report), new Date(now));

    const reply = serverToAgent({ instanceUid: uid, capabilities: this.serverCapabilities, flags });
    if (newUid && !newUid.equals(uid)) reply.agentIdentification = { $typeName: 'opamp.proto.v1.AgentIdentification', newInstanceUid: newUid };

    // connection settings: at enrolment, on a certificate request, or once per connection
    try {
      const offer = await this.connectionSettingsFor(session, conn, message, justEnrolled);
      if (offer) reply.connectionSettings = offer;
    } catch (error) {
      return {
        kind: 'reply',
        reply: errorReply(uid, ServerErrorResponseType.ServerErrorResponseType_BadRequest, `certificate request refused: ${error instanceof Error ? error.message : String(error)}`),
      };
    }

    if (this.offerRemoteConfig(session, now)) this.attachRemoteConfig(reply, session, now);
    for (const pending of session.outbox.splice(0)) Object.assign(reply, pending);
    session.firstReplyPending = false;

    if (message.agentDisconnect) {
      this.end(session, new Date(now));
      return { kind: 'reply', reply, closeAfter: true };
    }
    return { kind: 'reply', reply };
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

  private async attach(conn: ConnectionState, message: AgentToServer): Promise<{ ok: true; session: AgentSession; newUid?: Buffer } | { ok: false; reason: string }> {
    const outcome = await this.authenticator.attach({
      credential: conn.credential,
      instanceUid: message.instanceUid,
      requestNewUid: Boolean(message.flags & BigInt(AgentToServerFlags.AgentToServerFlags_RequestInstanceUid)),
      capabilities: message.capabilities,
      transport: conn.handle.transport,
    });
    if (!outcome.ok) return outcome;
    const agent = outcome.agent;
    const session = new AgentSession(agent, conn.credential, conn.handle.transport, conn.handle.send ? conn.handle : undefined);
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
    if (!recheck) this.sink.connected(agent, { transport: conn.handle.transport, instanceId: this.config.app.instanceId, at: new Date() });
    this.log.debug('Agent {AgentId} attached over {Transport}', { AgentId: agent.agentId, Transport: conn.handle.transport });
    return { ok: true, session, newUid: agent.uidChanged ? agent.instanceUid : undefined };
  }

  /** A message that leaves out something its capabilities say it reports. */
  private isCompressed(m: AgentToServer): boolean {
    const caps = m.capabilities;
    return (
      !m.agentDescription ||
      (hasCapability(caps, AgentCap.ReportsHealth) && !m.health) ||
      (hasCapability(caps, AgentCap.ReportsEffectiveConfig) && !m.effectiveConfig) ||
      (hasCapability(caps, AgentCap.ReportsRemoteConfig) && !m.remoteConfigStatus)
    );
  }

  private onRemoteConfigStatus(session: AgentSession, message: AgentToServer, report: AgentReport): void {
    const s = message.remoteConfigStatus!;
    const status = STATUS_NAMES[s.status] ?? 'UNSET';
    const hash = toHex(s.lastRemoteConfigHash);
    session.reportedConfigHash = hash;
    session.reportedStatus = status;
    report.remoteConfigStatus = { status, hash, errorMessage: s.errorMessage };
    withSpanSync('opamp.apply_status', { attributes: { 'agent.id': session.agentId, 'remote_config.status': status, 'remote_config.hash': hash } }, () => undefined);
    if (status === 'FAILED' && hash) {
      // rollback trap: never offer this config again until the desired config changes
      if (session.failedConfigHash !== hash) report.failedConfigHash = hash;
      session.failedConfigHash = hash;
      session.pushedAt.delete(hash);
    }
    if (status === 'APPLIED' && hash) {
      const pushed = session.pushedAt.get(hash);
      if (pushed !== undefined) {
        Metrics.record('ampora_opamp_apply_duration_seconds', (Date.now() - pushed) / 1000, { tenant: TenantLabels.of(session.tenantId), agent_type: session.agentType || 'unknown' });
        session.pushedAt.delete(hash);
      }
      if (session.failedConfigHash === hash) {
        session.failedConfigHash = undefined;
        report.failedConfigHash = '';
      }
    }
  }

  private offerRemoteConfig(session: AgentSession, now: number): boolean {
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

  private attachRemoteConfig(reply: ServerToAgent, session: AgentSession, now: number): void {
    const desired = session.desired!;
    reply.remoteConfig = toRemoteConfig(desired);
    session.offeredHash = desired.hash;
    session.offeredAt = now;
    if (session.askFullState) {
      // a forced push asks the agent to report its state again: an agent that already runs this hash
      // (a Supervisor restored it by itself) may not report an unchanged status otherwise
      reply.flags |= BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
      session.askFullState = false;
    }
    if (!session.pushedAt.has(desired.hash)) session.pushedAt.set(desired.hash, now);
    this.sink.remoteConfigSent?.(session, desired.hash, new Date(now));
  }

  private async connectionSettingsFor(session: AgentSession, conn: ConnectionState, message: AgentToServer, justEnrolled: boolean): Promise<ConnectionSettingsOffers | undefined> {
    const credential = conn.credential;
    if (!hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) return undefined;
    const csr = message.connectionSettingsRequest?.opamp?.certificateRequest?.csr;
    if (!session.firstReplyPending && !csr && !justEnrolled) return undefined;
    const extra = this.settings ? await this.settings.offer({ agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities, credential, csr: csr?.length ? csr : undefined, justEnrolled, transport: session.transport, mtls: conn.mtls }) : undefined;
    const offer = create(ConnectionSettingsOffersSchema, extra ?? {});
    const hash = this.sealOffer(offer);
    const hasCertificate = Boolean(offer.opamp?.certificate);
    if (!hasCertificate && session.connectionSettingsHash === hash) return undefined;
    session.connectionSettingsHash = hash;
    return offer;
  }

  /**
   * Fills what every OpAMP settings offer carries (clients apply a missing heartbeat interval as
   * "off") and sets its hash over the whole offer, so clients apply it. Returns the hash, hex.
   */
  private sealOffer(offer: ConnectionSettingsOffers): string {
    if (offer.opamp) offer.opamp.heartbeatIntervalSeconds = BigInt(this.config.opamp.heartbeatIntervalSeconds);
    else offer.opamp = { $typeName: 'opamp.proto.v1.OpAMPConnectionSettings', destinationEndpoint: '', heartbeatIntervalSeconds: BigInt(this.config.opamp.heartbeatIntervalSeconds) };
    offer.hash = new Uint8Array();
    const hash = createHash('sha256').update(toBinary(ConnectionSettingsOffersSchema, offer)).digest('hex');
    offer.hash = Buffer.from(hash, 'hex');
    return hash;
  }

  // ---- pushes from the dispatcher -------------------------------------------------------------

  /**
   * Sets the agent's desired config and delivers it now (WebSocket) or with the next poll (HTTP).
   * `force` re-sends even when the agent already reports the same hash or reported it FAILED.
   */
  pushRemoteConfig(session: AgentSession, desired: DesiredConfig, force: boolean): 'delivered' | 'queued' | 'unchanged' {
    const now = Date.now();
    session.desired = desired;
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
    const message = serverToAgent({ instanceUid: session.instanceUid, capabilities: this.serverCapabilities });
    this.attachRemoteConfig(message, session, now);
    this.sendOn(session, message);
    return 'delivered';
  }

  /**
   * Once the session's lease is taken: sends what the agent was assigned since attach read its
   * assignment. A push in that window looked for the lease, found none and answered no_session; from
   * the lease on, pushes find this session. A push that reached the session meanwhile is newer and wins.
   */
  async refreshAssignment(session: AgentSession): Promise<'pushed' | 'unchanged'> {
    if (!this.authenticator.assignmentSince || session.closed || !hasCapability(session.capabilities, AgentCap.AcceptsRemoteConfig)) return 'unchanged';
    const known = session.desired;
    const now = await this.authenticator.assignmentSince({ agentId: session.agentId, tenantId: session.tenantId }, known?.hash);
    if (!now || session.closed || session.desired !== known) return 'unchanged';
    const outcome = this.pushRemoteConfig(session, now, false);
    RequestContext.run({ tenantId: session.tenantId }, () =>
      this.log.info('Agent {AgentId} was assigned config {ConfigHash} while it connected; sent it ({Outcome})', { AgentId: session.agentId, ConfigHash: now.hash, Outcome: outcome }),
    );
    return outcome === 'unchanged' ? 'unchanged' : 'pushed';
  }

  /** Sends connection settings (a renewed certificate, say) now or with the next poll. */
  pushConnectionSettings(session: AgentSession, offer: ConnectionSettingsOffers): 'delivered' | 'queued' {
    session.connectionSettingsHash = this.sealOffer(offer);
    if (session.transport === 'http' || !session.connection?.send) {
      session.outbox.push({ connectionSettings: offer });
      return 'queued';
    }
    this.sendOn(session, serverToAgent({ instanceUid: session.instanceUid, capabilities: this.serverCapabilities, connectionSettings: offer }));
    return 'delivered';
  }

  /** Closes the agent's session on this instance (WebSocket closed; HTTP forgotten). */
  disconnect(session: AgentSession, reason: string): void {
    session.connection?.close?.(4001, reason);
    this.end(session, new Date());
  }

  /**
   * A newer session of this agent holds its lease on another instance: this one is stale. Nothing
   * more is sent on it, its socket is closed, and the agent is not recorded as disconnected.
   */
  supersede(session: AgentSession, reason: string): void {
    session.superseded = true;
    session.connection?.close?.(4002, reason);
    this.end(session, new Date(), { superseded: true });
  }

  /** Ends every session of this instance (shutdown): their agents are recorded as disconnected. */
  endAll(): void {
    const at = new Date();
    for (const s of [...this.registry.all()]) this.end(s, at);
  }

  /** The session ended (socket closed, AgentDisconnect, idle HTTP agent). */
  end(session: AgentSession, at: Date, info?: DisconnectInfo): void {
    if (this.registry.remove(session)) this.sink.disconnected(session, at, info ?? (session.superseded ? { superseded: true } : undefined));
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

export function toRemoteConfig(desired: DesiredConfig): ServerToAgent['remoteConfig'] {
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

export { credentialKey, Transport, ConnectionState, HandleResult };
