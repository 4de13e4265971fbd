import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { LiveBus } from '@ampora/platform';
import { FleetEvent, FleetEvents, MembershipChangedEvent } from '../fleet.events';
import { AgentRepository, AssignedMaterial, LockedAgent } from '../agents/agent.repository';
import { AssignmentSource } from '../agents/entities/agent.entity';
import { ConfigurationVersionRepository } from '../configurations/configuration-version.repository';
import { ConfigurationRepository } from '../configurations/configuration.repository';
import { ConfigurationVersionEntity } from '../configurations/entities/configuration-version.entity';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { GroupEntity } from '../groups/entities/group.entity';
import { GroupRepository } from '../groups/group.repository';
import { DispatchReport, FleetDispatchService, REPORT_ID_LIMIT } from './fleet-dispatch.service';

/** An agent that changed group. */
export interface Move {
  agentId: string;
  from: string | null;
  to: string | null;
}

export interface PlacementResult {
  moves: Move[];
  /** Agents whose assigned config changed and is not empty: they get pushed after the commit. */
  configChanged: string[];
}

/**
 * An agent's assigned config is its direct (or rollout) assignment, else its group's version. The
 * result is materialised on the agent row whenever an assignment or a membership changes, so the
 * OpAMP attach path and drift read one row. Methods taking an EntityManager run inside the caller's
 * transaction and hold the locks they need (group row, then agent rows); pushing and events happen
 * after the commit (`afterPlacement`, or FleetDispatchService.pushAssigned).
 *
 * Rollouts (issue 7) use `publishedVersion` + `assignVersion(..., 'rollout')` in their transaction,
 * then `FleetDispatchService.pushAssigned` after it commits.
 */
@Injectable()
export class AssignmentService {
  constructor(
    private readonly configurations: ConfigurationRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly groups: GroupRepository,
    private readonly agents: AgentRepository,
    private readonly dispatch: FleetDispatchService,
    private readonly bus: LiveBus,
  ) {}

  static material(v: ConfigurationVersionEntity): AssignedMaterial {
    return { versionId: v.id, files: v.files, configHash: v.configHash, contentHash: v.contentHash };
  }

  /** Version `number` of a configuration of the tenant, which must be Published; locked against archiving. */
  async publishedVersion(manager: EntityManager, tenantId: string, configurationId: string, number: number): Promise<ConfigurationVersionEntity> {
    const configuration = await this.configurations.findInTenant(tenantId, configurationId, manager);
    if (!configuration) throw new FleetException(FleetErrorCode.CONFIGURATION_NOT_FOUND, `Configuration ${configurationId} was not found`);
    const version = await manager.getRepository(ConfigurationVersionEntity).findOne({ where: { configurationId, number }, lock: { mode: 'pessimistic_read' } });
    if (!version) throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_FOUND, `Configuration ${configuration.name} has no version ${number}`);
    if (version.status !== 'Published') {
      throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_PUBLISHED, `Version ${number} of ${configuration.name} is ${version.status}; only Published versions can be assigned`, { status: version.status });
    }
    return version;
  }

  /** What members of `group` get through it (null when the group has no assignment). */
  async groupMaterial(manager: EntityManager, group: GroupEntity | null): Promise<AssignedMaterial | null> {
    if (!group?.assignedVersionId) return null;
    const version = await this.versions.findById(group.tenantId, group.assignedVersionId, manager);
    return version ? AssignmentService.material(version) : null;
  }

  /**
   * Moves locked agents into `group` (null: out of any group). `pinned` agents stay where an operator
   * put them; unpinned ones are placed by dynamic selectors. Group-derived assignments follow.
   */
  async place(manager: EntityManager, tenantId: string, locked: LockedAgent[], group: GroupEntity | null, pinned: boolean): Promise<PlacementResult> {
    if (locked.length === 0) return { moves: [], configChanged: [] };
    const material = await this.groupMaterial(manager, group);
    const to = group?.id ?? null;
    const hashes = await this.agents.placeInGroup(
      manager,
      tenantId,
      locked.map((a) => a.id),
      { groupId: to, pinned, material },
    );
    const moves = locked.filter((a) => a.groupId !== to).map((a) => ({ agentId: a.id, from: a.groupId, to }));
    const configChanged = locked.filter((a) => {
      const h = hashes.get(a.id);
      return h !== undefined && h !== null && h !== a.assignedConfigHash;
    });
    return { moves, configChanged: configChanged.map((a) => a.id) };
  }

  /** After the commit of a placement: membership events, then the pushes. */
  async afterPlacement(tenantId: string, result: PlacementResult, reason: string): Promise<DispatchReport> {
    this.publishMembership(tenantId, result.moves, reason);
    return this.dispatch.pushAssigned(tenantId, result.configChanged, reason);
  }

  publishMembership(tenantId: string, moves: Move[], reason: string): MembershipChangedEvent[] {
    const byGroup = new Map<string, MembershipChangedEvent>();
    const event = (groupId: string) => {
      let e = byGroup.get(groupId);
      if (!e) byGroup.set(groupId, (e = { groupId, added: [], removed: [], addedCount: 0, removedCount: 0, reason }));
      return e;
    };
    for (const m of moves) {
      if (m.from) {
        const e = event(m.from);
        e.removedCount += 1;
        if (e.removed.length < REPORT_ID_LIMIT) e.removed.push(m.agentId);
      }
      if (m.to) {
        const e = event(m.to);
        e.addedCount += 1;
        if (e.added.length < REPORT_ID_LIMIT) e.added.push(m.agentId);
      }
    }
    for (const e of byGroup.values()) this.bus.publish<FleetEvent>({ type: FleetEvents.GroupMembershipChanged, tenantId, entityId: e.groupId, payload: e });
    return [...byGroup.values()];
  }

  /**
   * Assigns a Published version to agents outright: `direct` (an operator) or `rollout`. Such
   * assignments win over the group's until `revertToGroup`. Returns the agents whose config changed.
   */
  async assignVersion(manager: EntityManager, tenantId: string, agentIds: string[], version: ConfigurationVersionEntity, source: Exclude<AssignmentSource, 'group'>): Promise<string[]> {
    const locked = await this.agents.lockForChange(manager, tenantId, agentIds);
    await this.agents.setAssignment(
      manager,
      tenantId,
      locked.map((a) => a.id),
      AssignmentService.material(version),
      source,
    );
    return locked.filter((a) => a.assignedConfigHash !== version.configHash).map((a) => a.id);
  }

  /**
   * A rollout to `groupId` completed: the group's assignment becomes `version`, members the rollout
   * assigned it to run it through the group again, and members on the group's old version (late
   * joiners) are assigned it. Returns the agents whose config changed (push them after the commit).
   */
  async adoptGroupVersion(manager: EntityManager, tenantId: string, groupId: string, version: ConfigurationVersionEntity): Promise<string[]> {
    const group = await this.groups.lock(manager, tenantId, groupId, 'update');
    if (!group || group.deletedAt) return [];
    await manager.query(`UPDATE groups SET assigned_version_id = $2, assigned_at = now(), updated_at = now() WHERE id = $1`, [groupId, version.id]);
    const locked = await this.agents.lockAdopting(manager, tenantId, groupId, version.id);
    await this.agents.setAssignment(
      manager,
      tenantId,
      locked.map((a) => a.id),
      AssignmentService.material(version),
      'group',
    );
    return locked.filter((a) => a.assignedConfigHash !== version.configHash).map((a) => a.id);
  }

  /** Drops an agent's own assignment: it runs its group's version again (or nothing). Returns what it is assigned now. */
  async revertToGroup(manager: EntityManager, tenantId: string, agent: LockedAgent): Promise<{ changed: boolean; material: AssignedMaterial | null }> {
    const group = agent.groupId ? await this.groups.lock(manager, tenantId, agent.groupId, 'share') : null;
    const material = group && !group.deletedAt ? await this.groupMaterial(manager, group) : null;
    await this.agents.setAssignment(manager, tenantId, [agent.id], material, material ? 'group' : null);
    return { changed: material !== null && material.configHash !== agent.assignedConfigHash, material };
  }

  /**
   * An aborted rollout's agents go back to what they ran before it: those of `agentIds` still on the
   * rollout's assignment (source `rollout`, `versionId`) take their group's version again (or nothing,
   * without one). Returns the agents that now have a config to push.
   */
  async revertRolloutAssignment(manager: EntityManager, tenantId: string, agentIds: string[], versionId: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await manager.query(
      `SELECT id FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND assignment_source = 'rollout' AND assigned_version_id = $3`,
      [tenantId, agentIds, versionId],
    );
    const locked = await this.agents.lockForChange(manager, tenantId, rows.map((r) => r.id));
    const back: string[] = [];
    for (const a of locked) {
      if (a.assignmentSource !== 'rollout') continue;
      const { material } = await this.revertToGroup(manager, tenantId, a);
      if (material) back.push(a.id);
    }
    return back;
  }
}
