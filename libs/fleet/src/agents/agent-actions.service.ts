import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { createLogger, Principal, Tx } from '@ampora/platform';
import { ApprovalOperation, ApprovalRequestRow, ApprovalRuleService, AuditService } from '@ampora/governance';
import { DispatchOutcome } from '@ampora/opamp';
import { AssignmentService, PlacementResult } from '../assignment/assignment.service';
import { DispatchReport, FleetDispatchService, REPORT_ID_LIMIT } from '../assignment/fleet-dispatch.service';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { GroupEntity } from '../groups/entities/group.entity';
import { GroupReconcileTrigger } from '../groups/group-reconcile.trigger';
import { GroupRepository } from '../groups/group.repository';
import { AgentRepository, LockedAgent } from './agent.repository';
import { forcePushContext, forcePushSetId } from './domain/force-push-approval';

/** Entity id of the audit events of bulk actions (their agents are listed in `additional`). */
export const BULK_ENTITY_ID = 'bulk';

/**
 * Moves (one agent, or up to 10,000 in one request and one audit event) and the bulk actions that
 * reach agents: force-push of the assigned config (up to 5,000, paced by the worker) and disconnect.
 */
@Injectable()
export class AgentActionsService implements OnModuleInit {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentActionsService');

  constructor(
    private readonly agents: AgentRepository,
    private readonly groups: GroupRepository,
    private readonly assignment: AssignmentService,
    private readonly dispatch: FleetDispatchService,
    private readonly reconcile: GroupReconcileTrigger,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly approvalRules: ApprovalRuleService,
  ) {}

  onModuleInit(): void {
    // a force-push that waited for a second person happens when it is approved, inside the decision's transaction
    this.approvalRules.registerOperation(ApprovalOperation.AgentForcePush, { onApproved: (tx, request, setId) => this.forcePushApproved(tx, request, setId) });
  }

  /** Moves one agent into a Static group (or out of any group), atomically. */
  async move(caller: Principal, id: string, groupId: string | null): Promise<{ agentId: string; groupId: string | null; configHash: string | null; delivery: DispatchOutcome | null }> {
    let result: PlacementResult = { moves: [], configChanged: [] };
    let configHash: string | null = null;
    await this.tx.run(async ({ manager }) => {
      const group = await this.targetGroup(manager, caller.tenantId, groupId);
      const [agent] = await this.agents.lockForChange(manager, caller.tenantId, [id]);
      if (!agent) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      result = await this.assignment.place(manager, caller.tenantId, [agent], group, group !== null);
      configHash = (await this.agents.findById(id, manager))?.assignedConfigHash ?? null;
      await this.audit.record(manager, { entityType: 'Agent', entityId: id, action: 'Moved', before: { groupId: agent.groupId }, after: { groupId } });
    });
    const report = await this.assignment.afterPlacement(caller.tenantId, result, `agent ${id} moved`);
    if (groupId === null) this.reconcile.request(caller.tenantId, 'agent ungrouped');
    return { agentId: id, groupId, configHash, delivery: single(report) };
  }

  /** Moves up to 10,000 agents in one transaction and one audit event. */
  async bulkMove(caller: Principal, agentIds: string[], groupId: string | null): Promise<{ groupId: string | null; moved: number; alreadyThere: number; movedFrom: Record<string, number>; dispatch: DispatchReport }> {
    const ids = [...new Set(agentIds)];
    let result: PlacementResult = { moves: [], configChanged: [] };
    const movedFrom: Record<string, number> = {};
    await this.tx.run(async ({ manager }) => {
      const group = await this.targetGroup(manager, caller.tenantId, groupId);
      const locked = await this.lockAll(manager, caller.tenantId, ids);
      result = await this.assignment.place(manager, caller.tenantId, locked, group, group !== null);
      for (const m of result.moves) movedFrom[m.from ?? 'none'] = (movedFrom[m.from ?? 'none'] ?? 0) + 1;
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: BULK_ENTITY_ID,
        action: 'Moved',
        after: { groupId },
        additional: { agentIds: ids, count: ids.length, moved: result.moves.length, movedFrom },
      });
    });
    const dispatch = await this.assignment.afterPlacement(caller.tenantId, result, `bulk move to ${groupId ?? 'no group'}`);
    if (groupId === null) this.reconcile.request(caller.tenantId, 'agents ungrouped');
    this.log.info('Moved {Moved} of {Agents} agents to group {GroupId}', { Moved: result.moves.length, Agents: ids.length, GroupId: groupId ?? 'none' });
    return { groupId, moved: result.moves.length, alreadyThere: ids.length - result.moves.length, movedFrom, dispatch };
  }

  /**
   * Assigns a Published version to up to 5,000 agents directly (it wins over their groups'), in one
   * transaction and one audit event; the agents whose config changed are pushed after the commit,
   * screened by the push-time checks as a group assignment is (decision 0387).
   */
  async bulkAssign(caller: Principal, agentIds: string[], ref: { configurationId: string; version: number }): Promise<{ versionId: string; configHash: string; agents: number; changed: number; dispatch: DispatchReport }> {
    const ids = [...new Set(agentIds)];
    const { version, changed } = await this.tx.run(async ({ manager }) => {
      const v = await this.assignment.publishedVersion(manager, caller.tenantId, ref.configurationId, ref.version);
      await this.lockAll(manager, caller.tenantId, ids);
      const changedIds = await this.assignment.assignVersion(manager, caller.tenantId, ids, v, 'direct');
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: BULK_ENTITY_ID,
        action: 'ConfigAssigned',
        after: { source: 'direct', versionId: v.id, configurationId: v.configurationId, version: v.number, assignedConfigHash: v.configHash },
        additional: { agentIds: ids, count: ids.length, changed: changedIds.length },
      });
      return { version: v, changed: changedIds };
    });
    const dispatch = await this.dispatch.pushAssigned(caller.tenantId, changed, `bulk assignment of version ${version.number}`, { path: 'assignment' });
    this.log.info('Assigned version {VersionId} to {Agents} agents ({Changed} changed)', { VersionId: version.id, Agents: ids.length, Changed: changed.length });
    return { versionId: version.id, configHash: version.configHash, agents: ids.length, changed: changed.length, dispatch };
  }

  /**
   * Re-sends every agent's assigned config, even when it already has it; always paced by the worker.
   * Waits instead when a tenant approval rule applies (decision 0402): nothing is sent and an
   * approval request opens for these agents (the same agents asked again while pending: reset); the
   * force-push happens when another person approves it.
   */
  async bulkForcePush(caller: Principal, agentIds: string[]): Promise<{ agents: number; dispatch: DispatchReport } | { agents: number; approvalId: string }> {
    const ids = await this.known(caller.tenantId, agentIds);
    const approvalId = await this.tx.run(async (tx) => {
      const context = { tenant: caller.tenantName, actor: caller.actor, ...forcePushContext(await this.agents.describeForRules(caller.tenantId, ids, tx.manager)) };
      const required = await this.approvalRules.required(caller.tenantId, ApprovalOperation.AgentForcePush, context, tx.manager);
      if (!required) return undefined;
      const request = await this.approvalRules.requestFor(tx, caller, {
        operation: ApprovalOperation.AgentForcePush,
        entityId: forcePushSetId(ids),
        title: `Force-push the assigned config to ${ids.length} agent(s)`,
        before: null,
        after: { agents: context.agents, configurations: context.configurations },
        required,
      });
      return request.id;
    });
    if (approvalId) return { agents: ids.length, approvalId };
    await this.audit.record(undefined, { entityType: 'Agent', entityId: BULK_ENTITY_ID, action: 'ForcePushed', additional: { agentIds: ids, count: ids.length } });
    const dispatch = await this.dispatch.pace(caller.tenantId, 'force-push', ids, 'bulk force-push');
    return { agents: ids.length, dispatch };
  }

  /** An approved force-push (decision 0402): audited inside the decision's transaction, paced after its commit. */
  private async forcePushApproved(tx: Tx, request: ApprovalRequestRow, setId: string): Promise<void> {
    const asked = (request.after as { agents?: { ids?: unknown } } | null)?.agents?.ids;
    const ids = Array.isArray(asked) ? asked.filter((x): x is string => typeof x === 'string') : [];
    if (ids.length === 0 || forcePushSetId(ids) !== setId) throw new FleetException(FleetErrorCode.AGENTS_NOT_FOUND, `Approval ${request.id} names no agents to force-push`);
    // agents forgotten since the request are left out (the others are still pushed)
    const still = await this.agents.existing(request.tenantId, ids, tx.manager);
    const present = ids.filter((id) => still.has(id));
    await this.audit.record(tx.manager, { entityType: 'Agent', entityId: BULK_ENTITY_ID, action: 'ForcePushed', additional: { agentIds: present, count: present.length, approvalId: request.id, ...(present.length < ids.length ? { gone: ids.length - present.length } : {}) } });
    if (present.length) tx.afterCommit(() => this.dispatch.pace(request.tenantId, 'force-push', present, `bulk force-push (approval ${request.id})`));
  }

  /** Closes the agents' live sessions (they reconnect, through the load balancer), paced by the worker. */
  async bulkDisconnect(caller: Principal, agentIds: string[]): Promise<{ agents: number; dispatch: DispatchReport }> {
    const ids = await this.known(caller.tenantId, agentIds);
    await this.audit.record(undefined, { entityType: 'Agent', entityId: BULK_ENTITY_ID, action: 'Disconnected', additional: { agentIds: ids, count: ids.length } });
    const dispatch = await this.dispatch.pace(caller.tenantId, 'disconnect', ids, 'bulk disconnect by an operator');
    return { agents: ids.length, dispatch };
  }

  private async targetGroup(manager: EntityManager, tenantId: string, groupId: string | null): Promise<GroupEntity | null> {
    if (!groupId) return null;
    const group = await this.groups.lock(manager, tenantId, groupId, 'share');
    if (!group || group.deletedAt) throw new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${groupId} was not found`);
    if (group.kind === 'Dynamic') throw new FleetException(FleetErrorCode.GROUP_IS_DYNAMIC, `Group ${group.name} is Dynamic: its selector decides its members`);
    return group;
  }

  private async lockAll(manager: EntityManager, tenantId: string, ids: string[]): Promise<LockedAgent[]> {
    const locked = await this.agents.lockForChange(manager, tenantId, ids);
    if (locked.length !== ids.length) throw unknownAgents(ids, new Set(locked.map((a) => a.id)));
    return locked;
  }

  private async known(tenantId: string, agentIds: string[]): Promise<string[]> {
    const ids = [...new Set(agentIds)];
    const found = await this.agents.existing(tenantId, ids);
    if (found.size !== ids.length) throw unknownAgents(ids, found);
    return ids;
  }
}

function unknownAgents(ids: string[], found: Set<string>): FleetException {
  const unknown = ids.filter((x) => !found.has(x));
  return new FleetException(FleetErrorCode.AGENTS_NOT_FOUND, `${unknown.length} of the agents do not exist in your tenant`, { unknownAgentIds: unknown.slice(0, REPORT_ID_LIMIT) });
}

/** The outcome of an inline dispatch to one agent (null when nothing was pushed). */
function single(report: DispatchReport): DispatchOutcome | null {
  for (const [outcome, n] of Object.entries(report.outcomes)) if (n > 0) return outcome as DispatchOutcome;
  return null;
}
