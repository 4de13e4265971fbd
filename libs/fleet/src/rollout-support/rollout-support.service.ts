import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { PushDenial } from '@ampora/governance';
import { AgentDriftService } from '../agents/agent-drift';
import { CHANGE_LOCK } from '../agents/agent-state.statement';
import { DriftVerdict } from '../agents/domain/config-drift';
import { fromStoredFiles } from '../agents/domain/stored-config';
import { AssignmentService } from '../assignment/assignment.service';
import { DispatchReport, FleetDispatchService } from '../assignment/fleet-dispatch.service';
import { ConfigurationVersionEntity } from '../configurations/entities/configuration-version.entity';
import { GroupEntity } from '../groups/entities/group.entity';
import { PushGate } from '../push-checks/push-gate.service';
import { RolloutAgentState, RolloutCandidate, RolloutGroup, RolloutVersion, RolloutVersionHashes } from './rollout-support.types';

const CANDIDATE_COLUMNS = 'id, display_name, last_seen_at, capabilities, healthy, effective_config_hash';

function candidate(r: Record<string, any>): RolloutCandidate {
  return {
    id: r.id,
    hostname: r.display_name ?? '',
    lastSeenAt: r.last_seen_at ? new Date(r.last_seen_at) : null,
    capabilities: String(r.capabilities ?? '0'),
    healthy: r.healthy ?? null,
    effectiveConfigHash: r.effective_config_hash ? String(r.effective_config_hash).trim() : null,
  };
}

function rolloutVersion(v: ConfigurationVersionEntity): RolloutVersion {
  const configHash = v.configHash.trim();
  return { id: v.id, configurationId: v.configurationId, number: v.number, configHash, contentHash: v.contentHash.trim(), desired: { files: fromStoredFiles(v.files), hash: configHash } };
}

/**
 * Fleet's face for the rollout engine (decision 0190): everything rollouts reads or changes of agents,
 * groups, configuration versions and assignments goes through here, so rollouts never names fleet's
 * tables. Set-based: each method is one or two statements however many agents it is given. Methods
 * taking an EntityManager run inside the caller's transaction (FleetTransactions) and hold the locks
 * they say; pushing happens after the commit (`pushAssigned`).
 */
@Injectable()
export class RolloutSupportService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly assignment: AssignmentService,
    private readonly dispatch: FleetDispatchService,
    private readonly drift: AgentDriftService,
    private readonly gate: PushGate,
  ) {}

  private manager(manager?: EntityManager): EntityManager {
    return manager ?? this.dataSource.manager;
  }

  // ----- groups and their members -----

  /** The group of the tenant, unless it does not exist or was deleted. */
  async liveGroup(manager: EntityManager, tenantId: string, groupId: string): Promise<RolloutGroup | null> {
    const group = await manager.getRepository(GroupEntity).findOne({ where: { tenantId, id: groupId } });
    return group && !group.deletedAt ? { id: group.id, name: group.name } : null;
  }

  /** Locks the group's row until the transaction ends (one rollout at a time decides on a group). */
  async lockGroup(manager: EntityManager, groupId: string): Promise<void> {
    await manager.query(`SELECT id FROM groups WHERE id = $1 FOR UPDATE`, [groupId]);
  }

  /** The group's members now, as the step planner needs them. */
  async members(tenantId: string, groupId: string, manager?: EntityManager): Promise<RolloutCandidate[]> {
    const rows: Array<Record<string, any>> = await this.manager(manager).query(`SELECT ${CANDIDATE_COLUMNS} FROM agents WHERE tenant_id = $1 AND group_id = $2`, [tenantId, groupId]);
    return rows.map(candidate);
  }

  /** Agents of a fixed cohort that still exist, in the cohort's order. */
  async cohort(tenantId: string, agentIds: string[], manager?: EntityManager): Promise<RolloutCandidate[]> {
    if (agentIds.length === 0) return [];
    const rows: Array<Record<string, any>> = await this.manager(manager).query(`SELECT ${CANDIDATE_COLUMNS} FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, agentIds]);
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    return agentIds.flatMap((id) => {
      const r = byId.get(id);
      return r ? [candidate(r)] : [];
    });
  }

  /** How many agents each group holds now, in one statement (an empty group is left out). */
  async memberCounts(tenantId: string, groupIds: string[]): Promise<Map<string, number>> {
    if (groupIds.length === 0) return new Map();
    const rows: Array<{ group_id: string; n: string }> = await this.dataSource.query(
      `SELECT group_id, count(*) AS n FROM agents WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) GROUP BY group_id`,
      [tenantId, [...new Set(groupIds)]],
    );
    return new Map(rows.map((r) => [r.group_id, Number(r.n)]));
  }

  /** Agents' display names ('' for one without; an agent that no longer exists is left out). */
  async displayNames(agentIds: string[]): Promise<Map<string, string>> {
    if (agentIds.length === 0) return new Map();
    const rows: Array<{ id: string; display_name: string | null }> = await this.dataSource.query(`SELECT id, display_name FROM agents WHERE id = ANY($1::uuid[])`, [[...new Set(agentIds)]]);
    return new Map(rows.map((r) => [r.id, r.display_name ?? '']));
  }

  // ----- agents' state -----

  /** Locks `agentIds` (in id order) and returns those still in `groupId`, in the given order. */
  async lockInGroup(manager: EntityManager, tenantId: string, groupId: string, agentIds: string[]): Promise<string[]> {
    if (agentIds.length === 0) return [];
    const rows: Array<{ id: string; group_id: string | null }> = await manager.query(`SELECT id, group_id FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id ${CHANGE_LOCK}`, [tenantId, agentIds]);
    const staying = new Set(rows.filter((r) => r.group_id === groupId).map((r) => r.id));
    return agentIds.filter((id) => staying.has(id));
  }

  /** What the inventory records of these agents (an agent that no longer exists is left out). */
  async agentStates(agentIds: string[], tenantId?: string): Promise<Map<string, RolloutAgentState>> {
    if (agentIds.length === 0) return new Map();
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT id, group_id, assignment_source, assigned_config_hash, assigned_content_hash, remote_config_status, remote_config_hash, remote_config_error,
              remote_config_at, healthy, effective_config_hash, connected, disconnected_at
       FROM agents WHERE id = ANY($1::uuid[])${tenantId ? ' AND tenant_id = $2' : ''}`,
      tenantId ? [agentIds, tenantId] : [agentIds],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          id: r.id,
          groupId: r.group_id ?? null,
          assignmentSource: r.assignment_source ?? null,
          assignedConfigHash: r.assigned_config_hash ?? null,
          assignedContentHash: r.assigned_content_hash ?? null,
          remoteConfigStatus: r.remote_config_status ?? null,
          remoteConfigHash: r.remote_config_hash ?? null,
          remoteConfigError: r.remote_config_error ?? null,
          remoteConfigAt: r.remote_config_at ? new Date(r.remote_config_at) : null,
          healthy: r.healthy ?? null,
          effectiveConfigHash: r.effective_config_hash ? String(r.effective_config_hash).trim() : null,
          connected: Boolean(r.connected),
          disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at) : null,
        },
      ]),
    );
  }

  /** Drift verdicts (effective config against the assignment) of agents whose state was just read; the reported hash is left out. */
  driftOf(states: RolloutAgentState[]): Promise<Map<string, DriftVerdict>> {
    return this.drift.verdictsOf(states.map((a) => ({ id: a.id, assignedConfigHash: a.assignedConfigHash, assignedContentHash: a.assignedContentHash, effectiveConfigHash: a.effectiveConfigHash, remoteConfigHash: null })));
  }

  /** Drift verdicts of agents read now, without the reported-hash rule (the engine judges reports with their time). */
  driftVerdicts(agentIds: string[]): Promise<Map<string, DriftVerdict>> {
    return this.drift.verdicts(agentIds, { semanticOnly: true });
  }

  // ----- versions -----

  /** Version `number` of a configuration of the tenant, which must be Published (fleet's errors otherwise); locked against archiving. */
  async publishedVersion(manager: EntityManager, tenantId: string, configurationId: string, number: number): Promise<RolloutVersion> {
    return rolloutVersion(await this.assignment.publishedVersion(manager, tenantId, configurationId, number));
  }

  /** The number of the newest Published version of the configuration before `before`, or null. */
  async previousPublishedNumber(manager: EntityManager, configurationId: string, before: number): Promise<number | null> {
    const rows: Array<{ number: number }> = await manager.query(
      `SELECT number FROM configuration_versions WHERE configuration_id = $1 AND status = 'Published' AND number < $2 ORDER BY number DESC LIMIT 1`,
      [configurationId, before],
    );
    return rows[0]?.number ?? null;
  }

  /** A version by id, or null when it is gone. */
  async version(versionId: string, manager?: EntityManager): Promise<RolloutVersion | null> {
    const v = await this.manager(manager).getRepository(ConfigurationVersionEntity).findOne({ where: { id: versionId } });
    return v ? rolloutVersion(v) : null;
  }

  /** The hashes of several versions in one statement (a missing one is left out). */
  async versionHashes(versionIds: string[]): Promise<Map<string, RolloutVersionHashes>> {
    if (versionIds.length === 0) return new Map();
    const rows: Array<{ id: string; config_hash: string; content_hash: string }> = await this.dataSource.query(
      `SELECT id, config_hash, content_hash FROM configuration_versions WHERE id = ANY($1::uuid[])`,
      [[...new Set(versionIds)]],
    );
    return new Map(rows.map((r) => [r.id, { configHash: String(r.config_hash).trim(), contentHash: String(r.content_hash).trim() }]));
  }

  // ----- assignments -----

  /** Assigns the version to the agents as a rollout's (source `rollout`); returns the agents whose config changed. */
  async assignVersion(manager: EntityManager, tenantId: string, agentIds: string[], versionId: string): Promise<string[]> {
    return this.assignment.assignVersion(manager, tenantId, agentIds, await this.versionEntity(manager, versionId), 'rollout');
  }

  /** A rollout to the group completed: the group's assignment becomes the version (see AssignmentService.adoptGroupVersion). */
  async adoptGroupVersion(manager: EntityManager, tenantId: string, groupId: string, versionId: string): Promise<string[]> {
    return this.assignment.adoptGroupVersion(manager, tenantId, groupId, await this.versionEntity(manager, versionId));
  }

  /** An aborted rollout's agents still on its assignment go back to their group's version; returns those with a config to push. */
  revertRolloutAssignment(manager: EntityManager, tenantId: string, agentIds: string[], versionId: string): Promise<string[]> {
    return this.assignment.revertRolloutAssignment(manager, tenantId, agentIds, versionId);
  }

  /**
   * The push-time checks for a rollout step, once for all its agents (decision 0275): the agents a
   * check denied, by id, with the policy and reason (also stored on the agents).
   */
  async screenStep(tenantId: string, rolloutId: string, versionId: string, agentIds: string[]): Promise<Map<string, PushDenial>> {
    const v = await this.dataSource.getRepository(ConfigurationVersionEntity).findOne({ where: { id: versionId } });
    if (!v) return new Map();
    return this.gate.screen({ tenantId, path: 'rollout-step', agentIds, rolloutId, config: { files: v.files, hash: v.configHash.trim(), versionId: v.id } });
  }

  /** Pushes what the agents are assigned now (after the commit that changed it). */
  pushAssigned(tenantId: string, agentIds: string[], reason: string, options: { force?: boolean } = {}): Promise<DispatchReport> {
    return this.dispatch.pushAssigned(tenantId, agentIds, reason, options);
  }

  private async versionEntity(manager: EntityManager, versionId: string): Promise<ConfigurationVersionEntity> {
    const v = await manager.getRepository(ConfigurationVersionEntity).findOne({ where: { id: versionId } });
    if (!v) throw new Error(`configuration version ${versionId} is gone`);
    return v;
  }
}
