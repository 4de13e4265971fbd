import { Inject, Injectable } from '@nestjs/common';
import { create } from '@bufbuild/protobuf';
import { AMPORA_CONFIG, AmporaConfig, LiveBus, Metrics, Principal, TenantLabels } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentCap, AgentDispatcher, DispatchOutcome, hasCapability, pb, sealConnectionSettings } from '@ampora/opamp';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentRepository } from './agent.repository';

/** How many pushes of a group's endpoint change are in flight at once. */
const GROUP_PUSH_CONCURRENCY = 32;

/** What an endpoint change offered to a group did, agent by agent (decision 0381). */
export interface GroupEndpointOffer {
  groupId: string;
  endpoint: string;
  /** The same offer, so the same hash, for every agent. */
  hash: string;
  agents: number;
  offered: Array<{ agentId: string; delivery: DispatchOutcome }>;
  skipped: Array<{ agentId: string; reason: 'lacks_capability' }>;
}

/**
 * An operator moves an agent, or every agent of a group, to another OpAMP endpoint (decisions 0322,
 * 0381): an OpAMPConnectionSettings offer with the new `destination_endpoint` (and the headers the
 * agent is to send there, since an agent applying the offer replaces its connection settings), pushed
 * like a certificate renewal and sealed with its hash, which the agent reports back in its connection
 * settings status.
 */
@Injectable()
export class AgentEndpointService {
  constructor(
    private readonly agents: AgentRepository,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async offer(caller: Principal, agentId: string, endpoint: string, headers: Record<string, string> = {}, options: { caCertPem?: string } = {}): Promise<{ agentId: string; endpoint: string; hash: string; delivery: string }> {
    const agent = await this.agents.findById(agentId);
    if (!agent || agent.tenantId !== caller.tenantId) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${agentId} was not found`);
    if (!hasCapability(BigInt(agent.capabilities ?? '0'), AgentCap.AcceptsOpAMPConnectionSettings)) {
      throw new FleetException(FleetErrorCode.AGENT_LACKS_CAPABILITY, `Agent ${agentId} does not accept OpAMP connection settings (AcceptsOpAMPConnectionSettings)`);
    }
    const { offer, hash } = this.sealed(endpoint, headers, options.caCertPem);
    const delivery = await this.dispatcher.pushConnectionSettings({ agentId, tenantId: caller.tenantId }, offer);
    Metrics.add('ampora_connection_settings_offers_total', 1, { tenant: TenantLabels.of(caller.tenantId), kind: 'endpoint', delivery });
    // header values are credentials: only their names are recorded
    await this.audit.record(undefined, { entityType: 'Agent', entityId: agentId, action: 'EndpointOffered', after: { endpoint, headers: Object.keys(headers), hash }, additional: { delivery } });
    this.bus.publish<FleetEvent>({ type: FleetEvents.AgentEndpointOffered, tenantId: caller.tenantId, entityId: agentId, payload: { agentId, endpoint, hash, delivery } });
    return { agentId, endpoint, hash, delivery };
  }

  /**
   * The same offer to every agent of the group that accepts OpAMP connection settings, pushed now;
   * the others are skipped. Agents not connected are reported `no_session` and keep their endpoint
   * (nothing is stored for later: offer again once they are back).
   */
  async offerToGroup(caller: Principal, groupId: string, endpoint: string, headers: Record<string, string> = {}): Promise<GroupEndpointOffer> {
    const members = await this.agents.groupMembers(caller.tenantId, groupId);
    if (!members) throw new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${groupId} was not found`);
    const { hash } = this.sealed(endpoint, headers);
    const able = members.filter((m) => hasCapability(BigInt(m.capabilities), AgentCap.AcceptsOpAMPConnectionSettings));
    const skipped = members.filter((m) => !able.includes(m)).map((m) => ({ agentId: m.id, reason: 'lacks_capability' as const }));
    const offered: GroupEndpointOffer['offered'] = [];
    for (let i = 0; i < able.length; i += GROUP_PUSH_CONCURRENCY) {
      const batch = able.slice(i, i + GROUP_PUSH_CONCURRENCY);
      // a message per push: the dispatcher may hold on to it (an HTTP agent's outbox)
      const outcomes = await Promise.all(batch.map((m) => this.dispatcher.pushConnectionSettings({ agentId: m.id, tenantId: caller.tenantId }, this.sealed(endpoint, headers).offer)));
      batch.forEach((m, j) => offered.push({ agentId: m.id, delivery: outcomes[j]! }));
    }
    const deliveries: Record<string, number> = {};
    for (const o of offered) deliveries[o.delivery] = (deliveries[o.delivery] ?? 0) + 1;
    const tenant = TenantLabels.of(caller.tenantId);
    for (const [delivery, n] of Object.entries(deliveries)) Metrics.add('ampora_connection_settings_offers_total', n, { tenant, kind: 'endpoint', delivery });
    if (skipped.length) Metrics.add('ampora_connection_settings_offers_total', skipped.length, { tenant, kind: 'endpoint', delivery: 'skipped' });
    await this.audit.record(undefined, {
      entityType: 'Group',
      entityId: groupId,
      action: 'EndpointOffered',
      after: { endpoint, headers: Object.keys(headers), hash },
      additional: { agents: members.length, deliveries, skipped: skipped.length },
    });
    this.bus.publish<FleetEvent>({ type: FleetEvents.GroupEndpointOffered, tenantId: caller.tenantId, entityId: groupId, payload: { groupId, endpoint, hash, deliveries, skipped: skipped.length } });
    return { groupId, endpoint, hash, agents: members.length, offered, skipped };
  }

  private sealed(endpoint: string, headers: Record<string, string>, caCertPem?: string): { offer: pb.ConnectionSettingsOffers; hash: string } {
    const offer = create(pb.ConnectionSettingsOffersSchema, {
      opamp: {
        destinationEndpoint: endpoint,
        ...(Object.keys(headers).length ? { headers: { headers: Object.entries(headers).map(([key, value]) => ({ key, value })) } } : {}),
        // the certificates that verify the new endpoint; the agent keeps its own client certificate (a handover, decision 0371)
        ...(caCertPem ? { certificate: { caCert: Buffer.from(caCertPem) } } : {}),
      },
    });
    return { offer, hash: sealConnectionSettings(offer, this.config.opamp.heartbeatIntervalSeconds) };
  }
}
