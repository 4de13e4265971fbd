import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock, Principal } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AgentRepository } from '../agents/agent.repository';
import { AgentEntity } from '../agents/entities/agent.entity';
import { AgentsService } from '../agents/agents.service';
import { ConfigurationVersionRepository } from '../configurations/configuration-version.repository';
import { ConfigurationRepository } from '../configurations/configuration.repository';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { FleetTransactions } from '../fleet-transactions';
import { GroupRepository } from '../groups/group.repository';
import { GroupsService } from '../groups/groups.service';

/** What a handover carries of an agent (decision 0371): its identity, its group and assignment by name and content hash. */
export interface HandoverSubject {
  id: string;
  tenantId: string;
  instanceUid: string;
  displayName: string;
  capabilities: string;
  identityKind: 'token' | 'certificate';
  certFingerprint: string | null;
  movedToPeer: string | null;
  groupName: string | null;
  assignment: { configurationName: string; contentHash: string } | null;
}

export interface AdoptInput {
  instanceUid: string;
  displayName: string;
  capabilities: string;
  certFingerprint: string;
  originPeer: string;
  originAgentId: string;
  groupName: string | null;
  assignment: { configurationName: string; contentHash: string } | null;
}

/**
 * Fleet's side of handing an agent over between deployments (decision 0371), for federation: describe
 * an agent for the token, adopt one here (a new agent row linked to its origin, its certificate bound
 * in the same transaction, then its group and assignment as far as they exist here), and mark one
 * MovedToPeer. Each writes the audit event of its side.
 */
@Injectable()
export class AgentHandovers {
  constructor(
    private readonly agents: AgentRepository,
    private readonly groupRows: GroupRepository,
    private readonly groups: GroupsService,
    private readonly agentsService: AgentsService,
    private readonly configurations: ConfigurationRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly clock: Clock,
  ) {}

  async describe(tenantId: string, agentId: string): Promise<HandoverSubject> {
    const a = await this.agents.findById(agentId);
    if (!a || a.tenantId !== tenantId) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${agentId} was not found`);
    const group = a.groupId ? await this.groupRows.findInTenant(tenantId, a.groupId) : null;
    let assignment: HandoverSubject['assignment'] = null;
    if (a.assignedVersionId) {
      const v = await this.versions.findById(tenantId, a.assignedVersionId);
      const c = v ? await this.configurations.findInTenant(tenantId, v.configurationId) : null;
      if (v && c) assignment = { configurationName: c.name, contentHash: v.contentHash };
    }
    return {
      id: a.id,
      tenantId: a.tenantId,
      instanceUid: a.instanceUid,
      displayName: a.displayName,
      capabilities: a.capabilities,
      identityKind: a.identityKind,
      certFingerprint: a.certFingerprint,
      movedToPeer: a.movedToPeer,
      groupName: group && !group.deletedAt ? group.name : null,
      assignment,
    };
  }

  /**
   * A new agent of the caller's tenant for an agent handed over by `originPeer`; `bind` binds its
   * certificate in the same transaction. Then its group (a static group of the same name) or else its
   * assignment (the same content Published here) follows, when they exist here.
   */
  async adopt(caller: Principal, input: AdoptInput, bind: (manager: EntityManager, agentId: string) => Promise<void>): Promise<{ agentId: string; group: string | null; assignment: string | null }> {
    const agentId = await this.tx.run(async ({ manager }) => {
      if (await this.agents.uidTaken(caller.tenantId, input.instanceUid, undefined, manager)) {
        throw new FleetException(FleetErrorCode.AGENT_HANDOVER_CONFLICT, `An agent with instance uid ${input.instanceUid} exists here already`);
      }
      const agent = await this.agents.insert(manager, {
        tenantId: caller.tenantId,
        instanceUid: input.instanceUid,
        identityKind: 'certificate',
        certFingerprint: input.certFingerprint,
        capabilities: input.capabilities,
        displayName: input.displayName,
        originPeer: input.originPeer,
        originAgentId: input.originAgentId,
      });
      await bind(manager, agent.id);
      await this.audit.record(manager, { entityType: 'Agent', entityId: agent.id, action: 'HandedOverIn', after: { instanceUid: input.instanceUid, fingerprint: input.certFingerprint }, additional: { fromPeer: input.originPeer, fromAgentId: input.originAgentId } });
      return agent.id;
    });
    let group: string | null = null;
    let assignment: string | null = null;
    const target = input.groupName ? await this.groupRows.findLiveByName(caller.tenantId, input.groupName) : null;
    if (target && target.kind === 'Static') {
      await this.groups.addMembers(caller, target.id, [agentId]);
      group = target.name;
    } else if (input.assignment) {
      const c = await this.configurations.findByName(caller.tenantId, input.assignment.configurationName);
      const v = c ? await this.versions.findByContentHash(c.id, input.assignment.contentHash) : null;
      if (c && v && v.status === 'Published') {
        await this.agentsService.assignVersion(caller, agentId, { configurationId: c.id, version: v.number });
        assignment = `${c.name} v${v.number}`;
      }
    }
    return { agentId, group, assignment };
  }

  /** The source's last step: the agent lives on `peer` now (MovedToPeer); it is refused here from now on. */
  async markMoved(caller: Principal, agentId: string, peer: string, additional: Record<string, unknown>): Promise<void> {
    await this.tx.run(async ({ manager }) => {
      const a = await this.agents.findById(agentId, manager);
      if (!a || a.tenantId !== caller.tenantId) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${agentId} was not found`);
      await manager.getRepository(AgentEntity).update({ id: agentId }, { movedToPeer: peer, movedAt: this.clock.now() });
      await this.audit.record(manager, { entityType: 'Agent', entityId: agentId, action: 'MovedToPeer', after: { movedToPeer: peer }, additional });
    });
  }
}
