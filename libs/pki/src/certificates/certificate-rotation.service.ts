import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { create } from '@bufbuild/protobuf';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, LiveBus, Metrics, Principal, RequestContext, TenantLabels, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentCap, AgentDispatcher, AgentSession, DispatchOutcome, hasCapability, pb, sealConnectionSettings, SessionRegistry } from '@ampora/opamp';
import { inValidityWindow } from '../domain/certificate-rules';
import { PkiEvent, PkiEvents } from '../pki.events';
import { PkiErrorCode, PkiException } from '../pki.errors';
import { AgentIdentityService } from './agent-identity.service';
import { CertificateRepository } from './certificate.repository';

/** What a rotation request did: pushed from here (with the offer's hash), or asked of every instance. */
export interface RotationResult {
  agentId: string;
  /** The certificate being replaced (the one the agent connects with). */
  certificateId: string;
  serialNumber: string;
  /** `requested`: the agent's session is not on this instance; the instance holding it pushes, or its next connection is offered the new certificate. */
  delivery: DispatchOutcome | 'requested';
  /** The offer's hash, which the agent reports in its connection settings status (pushed from here only). */
  hash?: string;
  /** The new certificate (pushed from here only). */
  newCertificateId?: string;
  newSerialNumber?: string;
}

/**
 * "Rotate now" (decision 0380): an operator asks for a fresh certificate and key for an agent that
 * connects with one, whatever its end date. The certificates it uses are marked (so its next
 * connection is offered one, like a renewal that is due); the instance holding its live session issues
 * the new certificate and pushes it at once, through the connection settings offer renewals use.
 */
@Injectable()
export class CertificateRotation implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Pki.Certificates.CertificateRotation');
  private off?: () => void;

  constructor(
    private readonly clock: Clock,
    private readonly sessions: SessionRegistry,
    private readonly identities: AgentIdentityService,
    private readonly certificates: CertificateRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onApplicationBootstrap(): void {
    // a request made on another instance: the one holding the session pushes
    this.off = this.bus.on<PkiEvent, typeof PkiEvents.CertificateRotationRequested>(
      [PkiEvents.CertificateRotationRequested],
      (event) => {
        const session = this.localSession(event.payload.agentId, event.tenantId);
        if (!session) return;
        void RequestContext.run({ tenantId: event.tenantId }, () => this.push(session))
          .then((pushed) => pushed && this.log.info('Pushed a rotated certificate to agent {AgentId}: {Outcome}', { AgentId: session.agentId, Outcome: pushed.delivery }))
          .catch((error: unknown) => this.log.warn('Could not rotate the certificate of agent {AgentId}; its next connection is offered one', { AgentId: session.agentId }, error));
      },
      { name: 'pki-certificate-rotation' },
    );
  }

  onModuleDestroy(): void {
    this.off?.();
  }

  async rotate(caller: Principal, agentId: string): Promise<RotationResult> {
    const now = this.clock.now();
    const rows = (await this.certificates.forAgent(agentId)).filter((r) => r.tenantId === caller.tenantId);
    if (rows.length === 0) throw new PkiException(PkiErrorCode.AGENT_CERTIFICATE_NOT_FOUND, `Agent ${agentId} has no certificate of Ampora's CA`);
    // the certificates the agent connects with (newest first): a pending renewal it never used is not one
    const inUse = rows.filter((r) => !r.revokedAt && r.firstUsedAt && inValidityWindow(r.notBefore, r.notAfter, now));
    const current = inUse[0];
    if (!current) {
      throw new PkiException(PkiErrorCode.CERTIFICATE_NOT_IN_USE, `Agent ${agentId} does not connect with a certificate of Ampora's CA: there is nothing to rotate (an agent on a bootstrap token is offered a certificate when it connects)`);
    }
    const session = this.localSession(agentId, caller.tenantId);
    if (session && !hasCapability(session.capabilities, AgentCap.AcceptsOpAMPConnectionSettings)) {
      throw new PkiException(PkiErrorCode.AGENT_LACKS_CAPABILITY, `Agent ${agentId} does not accept OpAMP connection settings (AcceptsOpAMPConnectionSettings): it cannot be given a new certificate`);
    }
    await this.tx.run(async ({ manager }) => {
      for (const row of inUse) await this.certificates.update(manager, row.id, { rotationRequestedAt: now });
      await this.audit.record(manager, {
        entityType: 'Certificate',
        entityId: current.id,
        action: 'RotationRequested',
        additional: { agentId, serialNumber: current.serialNumber, certificates: inUse.map((r) => r.serialNumber) },
      });
    });
    const base = { agentId, certificateId: current.id, serialNumber: current.serialNumber };
    if (session) {
      const pushed = await this.push(session);
      if (pushed) return { ...base, ...pushed };
    }
    this.bus.publish<PkiEvent>({ type: PkiEvents.CertificateRotationRequested, tenantId: caller.tenantId, entityId: agentId, payload: { agentId, certificateId: current.id } });
    Metrics.add('ampora_connection_settings_offers_total', 1, { tenant: TenantLabels.of(caller.tenantId), kind: 'rotation', delivery: 'requested' });
    return { ...base, delivery: 'requested' };
  }

  /** Issues the new certificate for a session on this instance and pushes it; undefined when nothing was due. */
  private async push(session: AgentSession): Promise<Pick<RotationResult, 'delivery' | 'hash' | 'newCertificateId' | 'newSerialNumber'> | undefined> {
    if (session.credential.kind !== 'certificate') return undefined;
    const ctx = { agentId: session.agentId, tenantId: session.tenantId, capabilities: session.capabilities, credential: session.credential, justEnrolled: false, transport: session.transport, mtls: session.mtls };
    const offer = await this.identities.renewalFor(ctx, this.clock.now(), { whilePending: 'reissue' });
    if (!offer) return undefined;
    const message = create(pb.ConnectionSettingsOffersSchema, offer);
    const hash = sealConnectionSettings(message, this.config.opamp.heartbeatIntervalSeconds);
    const delivery = await this.dispatcher.pushConnectionSettings({ agentId: session.agentId, tenantId: session.tenantId }, message);
    Metrics.add('ampora_connection_settings_offers_total', 1, { tenant: TenantLabels.of(session.tenantId), kind: 'rotation', delivery });
    const replaced = await this.certificates.findByFingerprint(session.credential.fingerprint);
    const issued = replaced?.replacedById ? await this.certificates.findById(replaced.replacedById) : null;
    return { delivery, hash, newCertificateId: issued?.id, newSerialNumber: issued?.serialNumber };
  }

  private localSession(agentId: string, tenantId: string): AgentSession | undefined {
    const s = this.sessions.get(agentId);
    return s && !s.closed && s.tenantId === tenantId && s.credential.kind === 'certificate' ? s : undefined;
  }
}
