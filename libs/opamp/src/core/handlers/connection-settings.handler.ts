import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';
import { ConnectionSettingsOffers, ConnectionSettingsOffersSchema } from '../../generated/opamp_pb';
import { OpampPorts } from '../../opamp-ports';
import type { ConnectionSettingsProvider } from '../../ports';
import { AgentCap, hasCapability } from '../../protocol/capabilities';
import { toHex } from '../../protocol/config-hash';
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

  /** The settings to offer on this frame's reply, if any. Throws to refuse a CSR (a BadRequest reply). */
  async offerFor({ session, conn, message, justEnrolled }: FrameContext): Promise<ConnectionSettingsOffers | undefined> {
    if (!hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) return undefined;
    const csr = message.connectionSettingsRequest?.opamp?.certificateRequest?.csr;
    if (!session.firstReplyPending && !csr && !justEnrolled) return undefined;
    const extra = this.settings
      ? await this.settings.offer({ agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities, credential: conn.credential, csr: csr?.length ? csr : undefined, justEnrolled, transport: session.transport, mtls: conn.mtls })
      : undefined;
    const offer = create(ConnectionSettingsOffersSchema, extra ?? {});
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
    if (offer.opamp) offer.opamp.heartbeatIntervalSeconds = BigInt(this.config.opamp.heartbeatIntervalSeconds);
    else offer.opamp = { $typeName: 'opamp.proto.v1.OpAMPConnectionSettings', destinationEndpoint: '', heartbeatIntervalSeconds: BigInt(this.config.opamp.heartbeatIntervalSeconds) };
    offer.hash = new Uint8Array();
    const hash = createHash('sha256').update(toBinary(ConnectionSettingsOffersSchema, offer)).digest('hex');
    offer.hash = Buffer.from(hash, 'hex');
    return hash;
  }
}
