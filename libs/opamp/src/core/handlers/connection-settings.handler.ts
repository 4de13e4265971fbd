import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { create, MessageInitShape } from '@bufbuild/protobuf';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';
import { ConnectionSettingsOffers, ConnectionSettingsOffersSchema } from '../../generated/opamp_pb';
import { OpampPorts } from '../../opamp-ports';
import type { ConnectionSettingsProvider } from '../../ports';
import { SettingsOfferCaps, settingsOfferCaps } from '../../domain/settings-offer-rule';
import { toHex } from '../../protocol/config-hash';
import { sealConnectionSettings } from '../../protocol/connection-settings-hash';
import type { AgentToServerPartHandler, FrameContext } from '../frame-context';

/**
 * `connection_settings_status` (reported) and `connection_settings_request` (a CSR: the agent asks
 * for a certificate). Offers connection settings at enrolment, on a certificate request, or once per
 * connection, with what the connectionSettings port (PKI) adds: a certificate, say.
 */
@Injectable()
export class ConnectionSettingsHandler implements AgentToServerPartHandler, OnApplicationBootstrap {
  private settings?: ConnectionSettingsProvider;

  constructor(
    private readonly ports: OpampPorts,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.settings = this.ports.optional('connectionSettings');
  }

  /** Whether agents may send certificate requests (the server's AcceptsConnectionSettingsRequest bit). */
  get acceptsCertificateRequests(): boolean {
    return Boolean(this.ports.optional('connectionSettings')?.acceptsCertificateRequests);
  }

  handle({ message, report }: FrameContext): void {
    const s = message.connectionSettingsStatus;
    if (s) report.connectionSettingsStatus = { status: String(s.status), hash: toHex(s.lastConnectionSettingsHash), errorMessage: s.errorMessage };
  }

  /**
   * Whether this frame's reply may carry connection settings, and what they may hold (the capability
   * bits, read once: domain/settings-offer-rule): the agent accepts them, and this is the connection's
   * first reply, its enrolment or a certificate request. Most frames (heartbeats) do not, and are
   * answered without waiting for offerFor.
   */
  offerable({ session, message, justEnrolled }: FrameContext): SettingsOfferCaps | undefined {
    return settingsOfferCaps(session.capabilities, { firstReplyPending: session.firstReplyPending, justEnrolled, certificateRequest: Boolean(message.connectionSettingsRequest?.opamp?.certificateRequest?.csr) });
  }

  /**
   * The settings to offer on this frame's reply, if any; `caps` is what `offerable` answered for the
   * frame. Throws to refuse a CSR (a BadRequest reply).
   */
  async offerFor(frame: FrameContext, caps: SettingsOfferCaps | undefined = this.offerable(frame)): Promise<ConnectionSettingsOffers | undefined> {
    if (!caps) return undefined;
    const { session, conn, message, justEnrolled } = frame;
    const { acceptsOpamp, reportsOwn } = caps;
    const csr = acceptsOpamp ? message.connectionSettingsRequest?.opamp?.certificateRequest?.csr : undefined;
    const extra =
      this.settings && acceptsOpamp
        ? await this.settings.offer({ agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities, credential: conn.credential, csr: csr?.length ? csr : undefined, justEnrolled, transport: session.transport, mtls: conn.mtls })
        : undefined;
    // where the agent's own telemetry goes (decision 0320), beside what PKI offers
    const own = reportsOwn ? await this.ports.optional('ownTelemetry')?.offer({ agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities }) : undefined;
    if (!acceptsOpamp && !own) return undefined;
    const offer = create(ConnectionSettingsOffersSchema, { ...(extra ?? {}), ...(own ?? {}) } as MessageInitShape<typeof ConnectionSettingsOffersSchema>);
    const hash = this.seal(offer);
    const hasCertificate = Boolean(offer.opamp?.certificate);
    if (!hasCertificate && session.connectionSettingsHash === hash) return undefined;
    session.connectionSettingsHash = hash;
    return offer;
  }

  /**
   * Fills what every OpAMP settings offer carries (clients apply a missing heartbeat interval as
   * "off") and sets its hash over the whole offer, so clients apply it. Returns the hash, hex.
   */
  seal(offer: ConnectionSettingsOffers): string {
    return sealConnectionSettings(offer, this.config.opamp.heartbeatIntervalSeconds);
  }
}
