import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID, X509Certificate } from 'node:crypto';
import { QueryFailedError, Repository } from 'typeorm';
import { Clock, createLogger, Principal, RequestContext } from '@ampora/platform';
import { TenantService } from '@ampora/governance';
import { AgentCap, hasCapability } from '@ampora/opamp';
import { AdoptedCertificates, AgentIdentityService, SigningKeysService } from '@ampora/pki';
import { AgentEndpointService, AgentHandovers } from '@ampora/fleet';
import { PeerCallError } from '../client/peer-call';
import { PeerClient } from '../client/peer-client';
import { encodeToken, HANDOVER_TTL_MS, HandoverPayload, signedPart, verifyToken } from '../domain/handover-token';
import { HandoverEntity } from '../entities/handover.entity';
import { PeerEntity } from '../entities/peer.entity';
import { FederationErrorCode, FederationException } from '../federation.errors';
import { FederationIdentityService } from '../federation-identity.service';
import { PeersService } from '../peers.service';

export interface HandoverResult {
  agentId: string;
  peer: string;
  targetAgentId: string;
  endpoint: string;
  delivery: string;
  group: string | null;
  assignment: string | null;
  movedToPeer: string;
}

export interface Redeemed {
  agentId: string;
  group: string | null;
  assignment: string | null;
}

const notPossible = (detail: string) => new FederationException(FederationErrorCode.FEDERATION_HANDOVER_NOT_POSSIBLE, detail);

/**
 * The handover of an agent to a peer (issue 19 item 5, decision 0371). Source: a token signed by the
 * Active CA key carrying the agent's identity and current leaf, the target's OpAMP endpoint and trust;
 * the target redeems it (creates the agent, trusts that one leaf); the source pushes the new
 * connection settings over OpAMP and marks the agent MovedToPeer. The agent reconnects with the
 * certificate it has.
 */
@Injectable()
export class HandoverService {
  private readonly log = createLogger('Ampora.Federation.Handover');

  constructor(
    private readonly peers: PeersService,
    private readonly client: PeerClient,
    private readonly identity: FederationIdentityService,
    private readonly agents: AgentHandovers,
    private readonly endpoints: AgentEndpointService,
    private readonly certificates: AgentIdentityService,
    private readonly keys: SigningKeysService,
    private readonly adopted: AdoptedCertificates,
    private readonly tenants: TenantService,
    @InjectRepository(HandoverEntity) private readonly redemptions: Repository<HandoverEntity>,
    private readonly clock: Clock,
  ) {}

  async handover(p: Principal, agentId: string, peerName: string): Promise<HandoverResult> {
    const peer = await this.peers.activeByName(p.tenantId, peerName);
    const token = await this.issue(p.tenantId, agentId, peer);
    let redeemed: Redeemed;
    try {
      redeemed = (await this.client.call<Redeemed>(peer, '/federation/v1/handovers', { method: 'POST', body: { token: token.token } })).body;
    } catch (error) {
      throw notPossible(`peer ${peer.name} did not take the agent: ${error instanceof Error ? error.message : String(error)}`);
    }
    const offer = await this.endpoints.offer(p, agentId, token.payload.target.endpoint, {}, { caCertPem: token.payload.target.trustBundlePem });
    await this.agents.markMoved(p, agentId, peer.name, { targetAgentId: redeemed.agentId, handoverId: token.payload.jti, endpoint: token.payload.target.endpoint, delivery: offer.delivery });
    this.log.info('Agent {AgentId} handed over to peer {Peer} (agent {TargetAgentId} there), new endpoint {Endpoint} offered: {Delivery}', { AgentId: agentId, Peer: peer.name, TargetAgentId: redeemed.agentId, Endpoint: offer.endpoint, Delivery: offer.delivery });
    return { agentId, peer: peer.name, targetAgentId: redeemed.agentId, endpoint: offer.endpoint, delivery: offer.delivery, group: redeemed.group, assignment: redeemed.assignment, movedToPeer: peer.name };
  }

  /** A signed token handing `agentId` over to `peer` (its checks first); `issuedAt` is now unless given. */
  async issue(tenantId: string, agentId: string, peer: PeerEntity, issuedAt = this.clock.nowMs()): Promise<{ token: string; payload: HandoverPayload }> {
    const agent = await this.agents.describe(tenantId, agentId);
    if (agent.movedToPeer) throw notPossible(`Agent ${agentId} was handed over to peer ${agent.movedToPeer} already`);
    if (!hasCapability(BigInt(agent.capabilities || '0'), AgentCap.AcceptsOpAMPConnectionSettings)) throw notPossible(`Agent ${agentId} does not accept OpAMP connection settings (AcceptsOpAMPConnectionSettings): it cannot be sent to another endpoint`);
    const leaf = agent.certFingerprint ? await this.certificates.certificateWithIssuer(agent.certFingerprint) : undefined;
    if (!leaf) throw notPossible(`Agent ${agentId} has no certificate of this deployment's CA to keep (hand over agents that connect with mTLS)`);
    let target: { endpoint: string; trustBundlePem: string };
    try {
      target = (await this.client.call<{ endpoint: string; trustBundlePem: string }>(peer, '/federation/v1/handover-target')).body;
    } catch (error) {
      throw notPossible(`peer ${peer.name} cannot take agents with certificates: ${error instanceof PeerCallError ? error.message : String(error)}`);
    }
    const payload: HandoverPayload = {
      v: 1,
      jti: randomUUID(),
      iat: issuedAt,
      exp: issuedAt + HANDOVER_TTL_MS,
      aud: peer.pinnedThumbprint,
      sourceCaPem: '',
      agent: {
        id: agent.id,
        instanceUid: agent.instanceUid,
        displayName: agent.displayName,
        capabilities: agent.capabilities,
        fingerprint: agent.certFingerprint!,
        certificatePem: leaf.certificatePem,
        issuerCaPem: leaf.issuerCaPem,
        groupName: agent.groupName,
        assignment: agent.assignment,
      },
      target: { peer: peer.name, endpoint: target.endpoint, trustBundlePem: target.trustBundlePem },
    };
    // the CA that signs is the Active one: it goes into the payload it signs
    payload.sourceCaPem = new X509Certificate((await this.keys.active()).certificate).toString();
    const { signature, caCertificatePem } = await this.keys.signDetached(signedPart(payload));
    if (caCertificatePem !== payload.sourceCaPem) throw notPossible('the Active CA key changed while the token was signed: try again');
    return { token: encodeToken(payload, signature), payload };
  }

  /**
   * The target's side: the token checked (decision 0371), recorded by its id (a replay is refused),
   * then the agent created as the peer's Operator, its leaf trusted, its group or assignment taken.
   */
  async redeem(peer: PeerEntity, callerCertificateDer: Buffer, token: string): Promise<Redeemed> {
    const own = await this.identity.current();
    const checked = verifyToken(token, { now: this.clock.nowMs(), callerCertificateDer, ownThumbprint: own?.fingerprint ?? '' });
    if ('problem' in checked) {
      throw new FederationException(checked.problem === 'expired' ? FederationErrorCode.FEDERATION_HANDOVER_TOKEN_EXPIRED : FederationErrorCode.FEDERATION_HANDOVER_TOKEN_INVALID, `The handover token is refused (${checked.problem}): ${checked.detail}`, { reason: checked.problem });
    }
    const t = checked.payload;
    try {
      await this.redemptions.insert({ id: t.jti, tenantId: peer.tenantId, peerName: peer.name, sourceAgentId: t.agent.id, agentId: null, fingerprint: t.agent.fingerprint, expiresAt: new Date(t.exp), redeemedAt: this.clock.now() });
    } catch (error) {
      if (error instanceof QueryFailedError && (error as unknown as { code?: string }).code === '23505') {
        throw new FederationException(FederationErrorCode.FEDERATION_HANDOVER_TOKEN_REPLAYED, `Handover token ${t.jti} was redeemed already`, { handoverId: t.jti });
      }
      throw error;
    }
    const tenant = await this.tenants.findById(peer.tenantId);
    const actor: Principal = { kind: 'system', tenantId: peer.tenantId, tenantName: tenant?.name ?? '', role: 'Operator', actor: `peer:${peer.name}` };
    const result = await RequestContext.run({ principal: actor, tenantId: peer.tenantId }, () =>
      this.agents.adopt(
        actor,
        {
          instanceUid: t.agent.instanceUid,
          displayName: t.agent.displayName,
          capabilities: t.agent.capabilities,
          certFingerprint: t.agent.fingerprint,
          originPeer: peer.name,
          originAgentId: t.agent.id,
          groupName: t.agent.groupName,
          assignment: t.agent.assignment,
        },
        async (manager, agentId) => {
          await this.adopted.adopt(manager, { tenantId: peer.tenantId, agentId, certificatePem: t.agent.certificatePem, issuerCaPem: t.agent.issuerCaPem, source: `peer:${peer.name}` });
        },
      ),
    );
    await this.redemptions.update({ id: t.jti }, { agentId: result.agentId });
    this.log.info('Agent {SourceAgentId} of peer {Peer} handed over here as agent {AgentId}', { SourceAgentId: t.agent.id, Peer: peer.name, AgentId: result.agentId });
    return result;
  }
}
