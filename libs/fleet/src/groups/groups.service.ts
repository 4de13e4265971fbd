import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock, createLogger, LiveBus, Page, PageQuery, PlatformException, Principal, Tx } from '@ampora/platform';
import { ApprovalOperation, ApprovalRequestRow, ApprovalRuleService, AuditService } from '@ampora/governance';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentRepository } from '../agents/agent.repository';
import { AssignmentService, PlacementResult } from '../assignment/assignment.service';
import { DispatchReport, emptyReport, FleetDispatchService, REPORT_ID_LIMIT } from '../assignment/fleet-dispatch.service';
import { ConfigurationVersionRepository } from '../configurations/configuration-version.repository';
import { ConfigurationRepository } from '../configurations/configuration.repository';
import { ConfigurationVersionEntity } from '../configurations/entities/configuration-version.entity';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { compileSelector } from './domain/selector';
import { GroupAssignmentSchema, toGroupResponse } from './dto/group.dto';
import { GroupEntity, GroupKind } from './entities/group.entity';
import { GroupReconcileTrigger } from './group-reconcile.trigger';
import { GroupFilter, GroupRepository } from './group.repository';

type Assignment = ReturnType<typeof GroupAssignmentSchema.parse> | null;

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const d = e.driverError ?? e;
  return d.code === '23505' && d.constraint === 'ux_groups_tenant_name';
}

/**
 * Groups: Static (operators choose the members) and Dynamic (a selector chooses them; the
 * reconciler keeps membership current). Membership is `agents.group_id`: one group per agent, moves
 * are one UPDATE. Soft delete releases the members; restore takes back the static ones still free.
 */
@Injectable()
export class GroupsService implements OnModuleInit {
  private readonly log = createLogger('Ampora.Fleet.Groups.GroupsService');

  constructor(
    private readonly clock: Clock,
    private readonly groups: GroupRepository,
    private readonly agents: AgentRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly assignment: AssignmentService,
    private readonly dispatch: FleetDispatchService,
    private readonly reconcile: GroupReconcileTrigger,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    private readonly configurations: ConfigurationRepository,
    private readonly approvalRules: ApprovalRuleService,
  ) {}

  onModuleInit(): void {
    // an assignment that waited for a second person happens when it is approved, inside the decision's transaction
    this.approvalRules.registerOperation(ApprovalOperation.GroupAssignment, { onApproved: (tx, request, groupId) => this.assignmentApproved(tx, request, groupId) });
  }

  /** Responses for groups: member counts and assigned versions, in two queries. */
  async describe(groups: GroupEntity[], manager?: EntityManager): Promise<Array<ReturnType<typeof toGroupResponse>>> {
    const counts = await this.groups.memberCounts(groups.map((g) => g.id), manager);
    const versions = await this.versions.describe(groups.flatMap((g) => (g.assignedVersionId ? [g.assignedVersionId] : [])), manager);
    return groups.map((g) => toGroupResponse(g, counts.get(g.id) ?? 0, assignmentOf(g, versions)));
  }

  list(filter: GroupFilter, page: PageQuery): Promise<Page<GroupEntity>> {
    return this.groups.list(filter, page);
  }

  async get(tenantId: string, id: string): Promise<GroupEntity> {
    const g = await this.groups.findInTenant(tenantId, id);
    if (!g) throw notFound(id);
    return g;
  }

  async create(caller: Principal, input: { name: string; kind: GroupKind; selector?: string; priority: number; description?: string }): Promise<GroupEntity> {
    const selector = checkSelector(input.kind, input.selector);
    try {
      const group = await this.tx.run(async ({ manager, afterCommit }) => {
        if (await this.groups.findLiveByName(caller.tenantId, input.name, manager)) throw nameTaken(input.name);
        const g = await this.groups.insert(manager, { tenantId: caller.tenantId, name: input.name, description: input.description ?? '', kind: input.kind, selector, priority: input.priority, createdBy: caller.actor });
        await this.audit.record(manager, { entityType: 'Group', entityId: g.id, action: 'Created', after: toGroupResponse(g, 0, null) });
        if (g.kind === 'Dynamic') afterCommit(() => this.reconcile.request(caller.tenantId, 'group created'));
        return g;
      });
      this.log.info('Group {GroupId} ({Name}, {Kind}) created', { GroupId: group.id, Name: group.name, Kind: group.kind });
      return group;
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(input.name);
      throw error;
    }
  }

  async update(caller: Principal, id: string, patch: { name?: string; selector?: string; priority?: number; description?: string }): Promise<GroupEntity> {
    try {
      return await this.tx.run(async ({ manager, afterCommit }) => {
        const g = await this.live(manager, caller.tenantId, id, 'update');
        const before = (await this.describe([g], manager))[0];
        if (patch.selector !== undefined) g.selector = checkSelector(g.kind, patch.selector);
        if (patch.name !== undefined && patch.name !== g.name) {
          const other = await this.groups.findLiveByName(caller.tenantId, patch.name, manager);
          if (other && other.id !== g.id) throw nameTaken(patch.name);
          g.name = patch.name;
        }
        if (patch.priority !== undefined) g.priority = patch.priority;
        if (patch.description !== undefined) g.description = patch.description;
        const saved = await this.groups.save(manager, g);
        await this.audit.record(manager, { entityType: 'Group', entityId: g.id, action: 'Updated', before, after: (await this.describe([saved], manager))[0] });
        if (g.kind === 'Dynamic' && (patch.selector !== undefined || patch.priority !== undefined)) afterCommit(() => this.reconcile.request(caller.tenantId, 'group selector changed'));
        return saved;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(patch.name);
      throw error;
    }
  }

  /** Soft delete: the group is kept (restorable); its members leave it and lose what it assigned them. */
  async delete(caller: Principal, id: string): Promise<GroupEntity> {
    let result: PlacementResult = { moves: [], configChanged: [] };
    const group = await this.tx.run(async ({ manager, afterCommit }) => {
      const g = await this.live(manager, caller.tenantId, id, 'update');
      const before = (await this.describe([g], manager))[0];
      const members = await this.agents.lockMembers(manager, caller.tenantId, g.id);
      const pinned = members.filter((a) => a.groupPinned).map((a) => a.id);
      result = await this.assignment.place(manager, caller.tenantId, members, null, false);
      g.deletedAt = this.clock.now();
      g.deletedBy = caller.actor;
      g.releasedMembers = pinned;
      const saved = await this.groups.save(manager, g);
      await this.audit.record(manager, {
        entityType: 'Group',
        entityId: g.id,
        action: 'Deleted',
        before,
        after: toGroupResponse(saved, 0, before?.assignment ?? null),
        additional: { releasedAgents: members.length, releasedAgentIds: members.slice(0, REPORT_ID_LIMIT).map((a) => a.id) },
      });
      afterCommit(async () => {
        await this.assignment.afterPlacement(caller.tenantId, result, `group ${g.id} deleted`);
        this.reconcile.request(caller.tenantId, 'group deleted');
      });
      return saved;
    });
    this.log.info('Group {GroupId} deleted; {Agents} agents released', { GroupId: id, Agents: result.moves.length });
    return group;
  }

  /** Brings a deleted group back with its static members that are still in no group. */
  async restore(caller: Principal, id: string): Promise<GroupEntity> {
    try {
      return await this.tx.run(async ({ manager, afterCommit }) => {
        const g = await this.groups.lock(manager, caller.tenantId, id, 'update');
        if (!g) throw notFound(id);
        if (!g.deletedAt) throw new FleetException(FleetErrorCode.GROUP_NOT_DELETED, `Group ${g.name} is not deleted`);
        if (await this.groups.findLiveByName(caller.tenantId, g.name, manager)) throw nameTaken(g.name);
        const before = toGroupResponse(g, 0, null);
        g.deletedAt = null;
        g.deletedBy = null;
        const candidates = await this.agents.ungrouped(manager, caller.tenantId, g.releasedMembers ?? []);
        g.releasedMembers = null;
        const saved = await this.groups.save(manager, g);
        const locked = (await this.agents.lockForChange(manager, caller.tenantId, candidates)).filter((a) => a.groupId === null);
        const result = await this.assignment.place(manager, caller.tenantId, locked, saved, true);
        await this.audit.record(manager, { entityType: 'Group', entityId: g.id, action: 'Restored', before, after: (await this.describe([saved], manager))[0], additional: { restoredMembers: locked.length } });
        afterCommit(async () => {
          await this.assignment.afterPlacement(caller.tenantId, result, `group ${g.id} restored`);
          if (g.kind === 'Dynamic') this.reconcile.request(caller.tenantId, 'group restored');
        });
        return saved;
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken();
      throw error;
    }
  }

  /** Puts agents into a Static group (moving them out of any other, atomically). */
  async addMembers(caller: Principal, id: string, agentIds: string[]): Promise<{ added: number; alreadyMembers: number; movedFrom: Record<string, number>; dispatch: DispatchReport }> {
    const ids = [...new Set(agentIds)];
    let result: PlacementResult = { moves: [], configChanged: [] };
    const counts = await this.tx.run(async ({ manager }) => {
      const g = await this.live(manager, caller.tenantId, id, 'share');
      if (g.kind === 'Dynamic') throw new FleetException(FleetErrorCode.GROUP_IS_DYNAMIC, `Group ${g.name} is Dynamic: its selector decides its members`);
      const locked = await this.agents.lockForChange(manager, caller.tenantId, ids);
      if (locked.length !== ids.length) {
        const found = new Set(locked.map((a) => a.id));
        const unknown = ids.filter((x) => !found.has(x));
        throw new FleetException(FleetErrorCode.AGENTS_NOT_FOUND, `${unknown.length} of the agents do not exist`, { unknownAgentIds: unknown.slice(0, REPORT_ID_LIMIT) });
      }
      result = await this.assignment.place(manager, caller.tenantId, locked, g, true);
      const movedFrom: Record<string, number> = {};
      for (const m of result.moves) if (m.from) movedFrom[m.from] = (movedFrom[m.from] ?? 0) + 1;
      await this.audit.record(manager, {
        entityType: 'Group',
        entityId: g.id,
        action: 'MembersAdded',
        before: { members: locked.filter((a) => a.groupId === g.id).length },
        after: { groupId: g.id },
        additional: { agentIds: ids, added: result.moves.length, movedFrom },
      });
      return { added: result.moves.length, alreadyMembers: ids.length - result.moves.length, movedFrom };
    });
    const dispatch = await this.assignment.afterPlacement(caller.tenantId, result, `agents added to group ${id}`);
    return { ...counts, dispatch };
  }

  /** Takes an agent out of a Static group: it is in no group (dynamic selectors may place it). */
  async removeMember(caller: Principal, id: string, agentId: string): Promise<void> {
    let result: PlacementResult = { moves: [], configChanged: [] };
    await this.tx.run(async ({ manager }) => {
      const g = await this.live(manager, caller.tenantId, id, 'share');
      if (g.kind === 'Dynamic') throw new FleetException(FleetErrorCode.GROUP_IS_DYNAMIC, `Group ${g.name} is Dynamic: change its selector instead`);
      const [agent] = await this.agents.lockForChange(manager, caller.tenantId, [agentId]);
      if (!agent || agent.groupId !== g.id) throw new FleetException(FleetErrorCode.AGENT_NOT_IN_GROUP, `Agent ${agentId} is not a member of group ${g.name}`);
      result = await this.assignment.place(manager, caller.tenantId, [agent], null, false);
      await this.audit.record(manager, { entityType: 'Group', entityId: g.id, action: 'MemberRemoved', before: { agentId, groupId: g.id }, after: { agentId, groupId: null } });
    });
    await this.assignment.afterPlacement(caller.tenantId, result, `agent removed from group ${id}`);
    this.reconcile.request(caller.tenantId, 'agent left a static group');
  }

  /** Assigns a Published version to the group: members without their own assignment run it. */
  /**
   * Sets (or, `ref` null, clears) the group's assigned version and pushes it to the members after the
   * commit. Setting one waits instead when a tenant approval rule applies (decision 0401): the group
   * keeps its assignment and an approval request opens (asked again while pending: reset, the last
   * asked version wins); the assignment happens when another person approves it.
   */
  async setAssignment(caller: Principal, id: string, ref: { configurationId: string; version: number } | null): Promise<{ group: GroupEntity; changedAgents: number; dispatch: DispatchReport; approvalId?: string }> {
    let changed: string[] = [];
    let approvalId: string | undefined;
    const group = await this.tx.run(async (tx) => {
      const { manager } = tx;
      const g = await this.live(manager, caller.tenantId, id, 'update');
      const version = ref ? await this.assignment.publishedVersion(manager, caller.tenantId, ref.configurationId, ref.version) : null;
      if (version) {
        const configuration = await this.configurations.findInTenant(caller.tenantId, version.configurationId, manager);
        const described = (await this.describe([g], manager))[0];
        const context = {
          tenant: caller.tenantName,
          actor: caller.actor,
          group: { id: g.id, name: g.name, kind: g.kind, members: described?.memberCount ?? 0 },
          configuration: { id: version.configurationId, name: configuration?.name ?? null },
          version: { id: version.id, number: version.number },
        };
        const required = await this.approvalRules.required(caller.tenantId, ApprovalOperation.GroupAssignment, context, manager);
        if (required) {
          const request = await this.approvalRules.requestFor(tx, caller, {
            operation: ApprovalOperation.GroupAssignment,
            entityId: g.id,
            title: `Assign ${context.configuration.name ?? version.configurationId} version ${version.number} to group ${g.name}`,
            before: described?.assignment ?? null,
            after: { group: context.group, configuration: context.configuration, version: context.version },
            required,
          });
          approvalId = request.id;
          return g;
        }
      }
      const done = await this.applyAssignment(tx, caller.tenantId, g, version);
      changed = done.changed;
      return done.group;
    });
    if (approvalId) return { group, changedAgents: 0, dispatch: emptyReport(), approvalId };
    const dispatch = changed.length ? await this.dispatch.pushAssigned(caller.tenantId, changed, `group ${id} assignment`) : emptyReport();
    this.log.info('Group {GroupId} assignment set to {VersionId}: {Agents} agents changed', { GroupId: id, VersionId: group.assignedVersionId, Agents: changed.length });
    return { group, changedAgents: changed.length, dispatch };
  }

  /** An approved assignment (decision 0401), inside the decision's transaction; its members are pushed after the commit. */
  private async assignmentApproved(tx: Tx, request: ApprovalRequestRow, groupId: string): Promise<void> {
    const asked = request.after as { configuration?: { id?: string }; version?: { number?: number } } | null;
    if (!asked?.configuration?.id || !asked.version?.number) throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_FOUND, `Approval ${request.id} names no configuration version`);
    const g = await this.live(tx.manager, request.tenantId, groupId, 'update');
    // the version must still be Published, or the approval fails and stays pending
    const version = await this.assignment.publishedVersion(tx.manager, request.tenantId, asked.configuration.id, asked.version.number);
    const { changed } = await this.applyAssignment(tx, request.tenantId, g, version, { approvalId: request.id });
    tx.afterCommit(async () => {
      if (changed.length) await this.dispatch.pushAssigned(request.tenantId, changed, `group ${groupId} assignment (approval ${request.id})`);
      this.log.info('Group {GroupId} assignment set to {VersionId} by approval {ApprovalId}: {Agents} agents changed', { GroupId: groupId, VersionId: version.id, ApprovalId: request.id, Agents: changed.length });
    });
  }

  private async applyAssignment(tx: Tx, tenantId: string, g: GroupEntity, version: ConfigurationVersionEntity | null, additional: Record<string, unknown> = {}): Promise<{ group: GroupEntity; changed: string[] }> {
    const { manager, afterCommit } = tx;
    const before = (await this.describe([g], manager))[0];
    g.assignedVersionId = version?.id ?? null;
    g.assignedAt = version ? this.clock.now() : null;
    const saved = await this.groups.save(manager, g);
    // lock the members in id order first, as every other fleet writer does (no deadlocks)
    await this.agents.lockMembers(manager, tenantId, g.id);
    const changed = await this.agents.applyGroupVersion(manager, tenantId, g.id, version ? AssignmentService.material(version) : null);
    await this.audit.record(manager, {
      entityType: 'Group',
      entityId: g.id,
      action: version ? 'AssignmentSet' : 'AssignmentCleared',
      before: before?.assignment ?? null,
      after: version ? { configurationId: version.configurationId, versionId: version.id, version: version.number } : null,
      additional: { changedAgents: changed.length, ...additional },
    });
    afterCommit(() =>
      this.bus.publish<FleetEvent>({ type: FleetEvents.GroupAssignmentChanged, tenantId, entityId: g.id, payload: { groupId: g.id, versionId: version?.id ?? null, configurationId: version?.configurationId ?? null, version: version?.number ?? null, changedAgents: changed.length } }),
    );
    return { group: saved, changed };
  }

  private async live(manager: EntityManager, tenantId: string, id: string, mode: 'update' | 'share'): Promise<GroupEntity> {
    const g = await this.groups.lock(manager, tenantId, id, mode);
    if (!g || g.deletedAt) throw notFound(id);
    return g;
  }
}

function checkSelector(kind: GroupKind, selector: string | undefined): string | null {
  if (kind === 'Static') {
    if (selector !== undefined) throw PlatformException.validation([{ field: 'selector', message: 'a Static group has no selector' }]);
    return null;
  }
  if (selector === undefined) throw PlatformException.validation([{ field: 'selector', message: 'a Dynamic group needs a selector' }]);
  const compiled = compileSelector(selector);
  if (!compiled.ok) {
    throw new FleetException(FleetErrorCode.INVALID_SELECTOR, `The selector is not valid: ${compiled.error.message}`, { selectorError: compiled.error });
  }
  return selector;
}

function assignmentOf(g: GroupEntity, versions: Map<string, { configurationId: string; number: number }>): Assignment {
  if (!g.assignedVersionId) return null;
  const v = versions.get(g.assignedVersionId);
  return v ? { configurationId: v.configurationId, versionId: g.assignedVersionId, version: v.number, assignedAt: g.assignedAt?.toISOString() ?? null } : null;
}

function notFound(id: string): FleetException {
  return new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${id} was not found`);
}

function nameTaken(name?: string): FleetException {
  return new FleetException(FleetErrorCode.GROUP_NAME_TAKEN, name ? `A group named ${JSON.stringify(name)} already exists` : 'A live group with this name already exists');
}
