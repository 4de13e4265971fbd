import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, In, Repository } from 'typeorm';
import { Page, PageQuery, paginate, prepared, returnedRows } from '@ampora/platform';
import { AgentStatus, agentStatusCondition } from './domain/agent-derivations';
import { AgentEntity, AssignmentSource, StoredConfigFiles } from './entities/agent.entity';
import { CHANGE_LOCK } from './agent-state.statement';

/** What an agent row copies from a configuration version when it is assigned. */
export interface AssignedMaterial {
  versionId: string | null;
  files: StoredConfigFiles;
  configHash: string;
  contentHash: string;
}

/** What attaching a session needs of an agent's row (decision 0441): none of what the agent reported. */
export type AgentAttachRow = Pick<
  AgentEntity,
  'id' | 'tenantId' | 'instanceUid' | 'agentType' | 'movedToPeer' | 'assignedConfigHash' | 'assignedConfig' | 'failedConfigHash' | 'remoteConfigHash'
>;

/** An agent row locked for a membership or assignment change. */
export interface LockedAgent {
  id: string;
  groupId: string | null;
  groupPinned: boolean;
  assignmentSource: AssignmentSource | null;
  assignedConfigHash: string | null;
  capabilities: string;
}

/** What a push needs of an agent. */
export interface DispatchTarget {
  id: string;
  tenantId: string;
  assignedConfig: StoredConfigFiles | null;
  assignedConfigHash: string | null;
  capabilities: string;
}

/** An agent as a selector sees it. */
export interface SelectorRow {
  id: string;
  labels: Record<string, unknown>;
  /** Operator tags (`tag.*` in selectors). */
  tags: Record<string, string>;
  groupId: string | null;
  groupPinned: boolean;
}

/**
 * Assignments a placement keeps: an operator's direct one always; a rollout's only while the agent
 * stays in the rollout's group ($3 is the target group, a.group_id the current one). An agent that
 * leaves the group mid-rollout runs its new group's version.
 */
const KEPT_ON_PLACEMENT = `(a.assignment_source = 'direct' OR (a.assignment_source = 'rollout' AND a.group_id IS NOT DISTINCT FROM $3::uuid))`;

/** An agent row locked to be forgotten, with what its audit event keeps. */
export interface ForgettableAgent {
  id: string;
  instanceUid: string;
  displayName: string;
  groupId: string | null;
  identityKind: string;
  certFingerprint: string | null;
  tags: Record<string, string>;
  /** What the retention rule (pastRetention) judges. */
  connected: boolean;
  disconnectedAt: Date | null;
  lastSeenAt: Date | null;
  createdAt: Date;
}

/**
 * Gathers the candidates of the retention sweep (pastRetention in domain/agent-retention.ts in SQL,
 * so the index narrows them); the sweep decides with pastRetention itself on the locked rows.
 */
const DEPARTED = (n: number) => `connected = false AND (disconnected_at < $${n} OR (disconnected_at IS NULL AND COALESCE(last_seen_at, created_at) < $${n}))`;

export interface AgentCounts {
  total: number;
  connected: number;
  stale: number;
  disconnected: number;
  healthy: number;
  unhealthy: number;
  healthUnknown: number;
}

export interface AgentFilter {
  tenantId: string;
  status?: AgentStatus;
  /** Each entry must match (`labels @> {key: value}`). */
  labels?: Array<{ key: string; value: string }>;
  /** Each entry must match an operator tag (`tags @> {key: value}`). */
  tags?: Array<{ key: string; value: string }>;
  text?: string;
  /** Reported health: true, false, or unknown (never reported). */
  health?: 'healthy' | 'unhealthy' | 'unknown';
  /** Only agents with an assigned config (what a drift filter reads before judging each row). */
  assignedOnly?: boolean;
  /** Members of this group, or `none` for agents in no group. */
  groupId?: string | 'none';
  /** The heartbeat window that separates connected from stale. */
  staleAfterSeconds: number;
  /** The time the status filter is judged at (ms since the epoch; the service's clock). */
  now: number;
}

/** What a lock for a membership or assignment change reads of each agent (a LockedAgent). */
const LOCKED_COLUMNS = 'id, group_id, group_pinned, assignment_source, assigned_config_hash, capabilities';

/** What attaching a session needs of its agent, for an array of ids (decision 0441); prepared once per connection (decision 0444). */
const ATTACH_ROWS_SQL = prepared(
  `SELECT id, tenant_id, instance_uid, agent_type, moved_to_peer, assigned_config_hash, assigned_config, failed_config_hash, remote_config_hash
   FROM agents WHERE id = ANY($1::uuid[])`,
);

/** Assigned hashes and, where they differ from the known ones, configurations (see `assignmentsUnless`); prepared once per connection (decision 0444). */
const ASSIGNMENTS_UNLESS_SQL = prepared(
  `SELECT k.n, a.assigned_config_hash AS hash, CASE WHEN coalesce(a.assigned_config_hash, '') <> coalesce(k.known::char(64), '') THEN a.assigned_config END AS config
   FROM agents a JOIN unnest($1::uuid[], $2::uuid[], $3::text[]) WITH ORDINALITY AS k(id, tenant_id, known, n) ON a.id = k.id AND a.tenant_id = k.tenant_id`,
);

function locked(r: Record<string, unknown>): LockedAgent {
  return {
    id: r.id as string,
    groupId: (r.group_id as string | null) ?? null,
    groupPinned: r.group_pinned as boolean,
    assignmentSource: (r.assignment_source as AssignmentSource | null) ?? null,
    assignedConfigHash: (r.assigned_config_hash as string | null) ?? null,
    capabilities: String(r.capabilities),
  };
}

@Injectable()
export class AgentRepository {
  constructor(@InjectRepository(AgentEntity) private readonly repo: Repository<AgentEntity>) {}

  private r(manager?: EntityManager): Repository<AgentEntity> {
    return manager ? manager.getRepository(AgentEntity) : this.repo;
  }

  findById(id: string, manager?: EntityManager): Promise<AgentEntity | null> {
    return this.r(manager).findOne({ where: { id } });
  }

  /**
   * Several agents by id, whatever their tenant (the agents of reconnecting sessions; a storm reads
   * thousands), in one statement, narrowed to what attaching a session needs (decision 0441): the
   * whole row carries the agent's reported effective config, available components and health, parsed
   * for nothing, and a query built by the ORM for nothing.
   */
  async attachRowsByIds(ids: readonly string[]): Promise<AgentAttachRow[]> {
    if (ids.length === 0) return [];
    const rows = (await this.repo.query(ATTACH_ROWS_SQL, [[...ids]])) as Array<{
      id: string;
      tenant_id: string;
      instance_uid: string;
      agent_type: string;
      moved_to_peer: string | null;
      assigned_config_hash: string | null;
      assigned_config: StoredConfigFiles | null;
      failed_config_hash: string | null;
      remote_config_hash: string | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      instanceUid: r.instance_uid,
      agentType: r.agent_type,
      movedToPeer: r.moved_to_peer,
      assignedConfigHash: r.assigned_config_hash,
      assignedConfig: r.assigned_config,
      failedConfigHash: r.failed_config_hash,
      remoteConfigHash: r.remote_config_hash,
    }));
  }

  findInTenant(tenantId: string, id: string, manager?: EntityManager): Promise<AgentEntity | null> {
    return this.r(manager).findOne({ where: { tenantId, id } });
  }

  findManyInTenant(tenantId: string, ids: string[]): Promise<AgentEntity[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.repo.find({ where: { tenantId, id: In(ids) } });
  }

  /** The catalogue material of a group's agents (undefined: no such group in the tenant). */
  async groupCatalogues(tenantId: string, groupId: string): Promise<Array<{ id: string; availableComponents: unknown; nonIdentifyingAttributes: Record<string, unknown> | null }> | undefined> {
    const rows: Array<{ id: string | null; available_components: unknown; non_identifying_attributes: Record<string, unknown> | null }> = await this.repo.query(
      `SELECT a.id, a.available_components, a.non_identifying_attributes FROM groups g LEFT JOIN agents a ON a.group_id = g.id AND a.tenant_id = g.tenant_id WHERE g.tenant_id = $1 AND g.id = $2`,
      [tenantId, groupId],
    );
    if (rows.length === 0) return undefined;
    return rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, availableComponents: r.available_components, nonIdentifyingAttributes: r.non_identifying_attributes }));
  }

  /** The agents of a group with their last reported capabilities (decimal text); undefined: no such group in the tenant. */
  async groupMembers(tenantId: string, groupId: string): Promise<Array<{ id: string; capabilities: string }> | undefined> {
    const rows: Array<{ id: string | null; capabilities: string | null }> = await this.repo.query(
      `SELECT a.id, a.capabilities::text AS capabilities FROM groups g LEFT JOIN agents a ON a.group_id = g.id AND a.tenant_id = g.tenant_id WHERE g.tenant_id = $1 AND g.id = $2 ORDER BY a.id`,
      [tenantId, groupId],
    );
    if (rows.length === 0) return undefined;
    return rows.filter((r) => r.id !== null).map((r) => ({ id: r.id!, capabilities: r.capabilities ?? '0' }));
  }

  async uidTaken(tenantId: string, instanceUid: string, exceptAgentId: string | undefined, manager?: EntityManager): Promise<boolean> {
    const row = await this.r(manager).findOne({ where: { tenantId, instanceUid }, select: { id: true } });
    return Boolean(row && row.id !== exceptAgentId);
  }

  insert(manager: EntityManager, row: Partial<AgentEntity> & Pick<AgentEntity, 'tenantId' | 'instanceUid' | 'identityKind'>): Promise<AgentEntity> {
    const repo = manager.getRepository(AgentEntity);
    return repo.save(repo.create(row));
  }

  /** An agent's assigned config hash, and the config itself only when that hash is not `knownHash`. */
  async assignmentUnless(tenantId: string, id: string, knownHash: string | undefined): Promise<{ hash: string | null; config: StoredConfigFiles | null } | undefined> {
    return (await this.assignmentsUnless([{ tenantId, id, knownHash }]))[0];
  }

  /**
   * For each request (an agent of a tenant, the hash its session knows): the agent's assigned hash,
   * and its configuration only when that differs from the known hash; `undefined` for an agent that
   * is not there. One statement for all (decision 0425); answers in the order asked.
   */
  async assignmentsUnless(requests: ReadonlyArray<{ tenantId: string; id: string; knownHash: string | undefined }>): Promise<Array<{ hash: string | null; config: StoredConfigFiles | null } | undefined>> {
    if (requests.length === 0) return [];
    const rows: Array<{ n: string; hash: string | null; config: StoredConfigFiles | null }> = await this.repo.query(
      ASSIGNMENTS_UNLESS_SQL,
      [requests.map((r) => r.id), requests.map((r) => r.tenantId), requests.map((r) => r.knownHash ?? null)],
    );
    const answers: Array<{ hash: string | null; config: StoredConfigFiles | null } | undefined> = requests.map(() => undefined);
    for (const row of rows) answers[Number(row.n) - 1] = { hash: row.hash, config: row.config };
    return answers;
  }

  async setInstanceUid(id: string, instanceUid: string): Promise<void> {
    await this.repo.update({ id }, { instanceUid });
  }

  /** The agent connected with this certificate (its identity is now the certificate). */
  async setCertificate(id: string, fingerprint: string): Promise<void> {
    await this.repo.update({ id }, { certFingerprint: fingerprint, identityKind: 'certificate' });
  }

  /** Ids of `ids` that exist in the tenant. */
  async existing(tenantId: string, ids: string[], manager?: EntityManager): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: string }> = await (manager ?? this.repo.manager).query(`SELECT id FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
    return new Set(rows.map((r) => r.id));
  }

  /** Of `ids` in the tenant: their labels, group names and assigned configurations' names (what an approval rule reads about them). */
  async describeForRules(tenantId: string, ids: string[], manager?: EntityManager): Promise<Array<{ id: string; labels: Record<string, unknown>; groupName: string | null; configurationName: string | null }>> {
    if (ids.length === 0) return [];
    const rows: Array<{ id: string; labels: Record<string, unknown> | null; group_name: string | null; configuration_name: string | null }> = await (manager ?? this.repo.manager).query(
      `SELECT a.id, a.labels, g.name AS group_name, c.name AS configuration_name FROM agents a
       LEFT JOIN groups g ON g.id = a.group_id
       LEFT JOIN configuration_versions v ON v.id = a.assigned_version_id
       LEFT JOIN configurations c ON c.id = v.configuration_id
       WHERE a.tenant_id = $1 AND a.id = ANY($2::uuid[]) ORDER BY a.id`,
      [tenantId, ids],
    );
    return rows.map((r) => ({ id: r.id, labels: r.labels ?? {}, groupName: r.group_name, configurationName: r.configuration_name }));
  }

  /** Locks agent rows for a membership or assignment change, in id order (no deadlocks). */
  async lockForChange(manager: EntityManager, tenantId: string, ids: string[]): Promise<LockedAgent[]> {
    if (ids.length === 0) return [];
    const rows: Array<Record<string, unknown>> = await manager.query(`SELECT ${LOCKED_COLUMNS} FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id ${CHANGE_LOCK}`, [tenantId, ids]);
    return rows.map(locked);
  }

  /**
   * Locks, in id order, the members of a group that follow its assignment or hold `versionId` from a
   * rollout (what a completed rollout hands back to the group), judged on each row's latest version.
   */
  async lockAdopting(manager: EntityManager, tenantId: string, groupId: string, versionId: string): Promise<LockedAgent[]> {
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT ${LOCKED_COLUMNS} FROM agents
       WHERE tenant_id = $1 AND group_id = $2 AND (assignment_source = 'group' OR (assignment_source = 'rollout' AND assigned_version_id = $3) OR assignment_source IS NULL)
       ORDER BY id ${CHANGE_LOCK}`,
      [tenantId, groupId, versionId],
    );
    return rows.map(locked);
  }

  /** Locks the members of a group, in id order (rows that left it meanwhile are not returned). */
  async lockMembers(manager: EntityManager, tenantId: string, groupId: string): Promise<LockedAgent[]> {
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM agents WHERE tenant_id = $1 AND group_id = $2 ORDER BY id ${CHANGE_LOCK}`, [tenantId, groupId]);
    return (await this.lockForChange(manager, tenantId, rows.map((r) => r.id))).filter((a) => a.groupId === groupId);
  }

  /**
   * Puts agents into `groupId` (or no group) and materialises the group's version on those whose
   * assignment comes from their group; direct assignments are kept, and rollout assignments of agents
   * that stay in their group (see KEPT_ON_PLACEMENT). Returns each agent's
   * assigned config hash afterwards. Callers lock the agents and the group first.
   */
  async placeInGroup(
    manager: EntityManager,
    tenantId: string,
    ids: string[],
    target: { groupId: string | null; pinned: boolean; material: AssignedMaterial | null },
  ): Promise<Map<string, string | null>> {
    if (ids.length === 0) return new Map();
    const m = target.material;
    const rows = returnedRows<{ id: string; assigned_config_hash: string | null }>(
      await manager.query(
      `UPDATE agents a SET
         group_id = $3::uuid,
         group_pinned = $4::boolean,
         assignment_source = CASE WHEN ${KEPT_ON_PLACEMENT} THEN a.assignment_source WHEN $7::char(64) IS NULL THEN NULL ELSE 'group' END,
         assigned_version_id = CASE WHEN ${KEPT_ON_PLACEMENT} THEN a.assigned_version_id ELSE $5::uuid END,
         assigned_config = CASE WHEN ${KEPT_ON_PLACEMENT} THEN a.assigned_config ELSE $6::jsonb END,
         assigned_config_hash = CASE WHEN ${KEPT_ON_PLACEMENT} THEN a.assigned_config_hash ELSE $7::char(64) END,
         assigned_content_hash = CASE WHEN ${KEPT_ON_PLACEMENT} THEN a.assigned_content_hash ELSE $8::char(64) END,
         assigned_at = CASE WHEN ${KEPT_ON_PLACEMENT} OR a.assigned_config_hash IS NOT DISTINCT FROM $7::char(64) THEN a.assigned_at ELSE now() END,
         failed_config_hash = CASE WHEN ${KEPT_ON_PLACEMENT} OR a.assigned_config_hash IS NOT DISTINCT FROM $7::char(64) THEN a.failed_config_hash ELSE NULL END,
         updated_at = now()
       WHERE a.tenant_id = $1 AND a.id = ANY($2::uuid[])
       RETURNING a.id, a.assigned_config_hash`,
      [tenantId, ids, target.groupId, target.pinned, m?.versionId ?? null, m ? JSON.stringify(m.files) : null, m?.configHash ?? null, m?.contentHash ?? null],
      ),
    );
    return new Map(rows.map((r) => [r.id, r.assigned_config_hash]));
  }

  /**
   * Materialises a group's (new) version on its members whose assignment comes from the group.
   * Returns the agents whose assigned config changed. Callers hold the group's row lock.
   */
  async applyGroupVersion(manager: EntityManager, tenantId: string, groupId: string, material: AssignedMaterial | null): Promise<string[]> {
    const m = material;
    const rows = returnedRows<{ id: string }>(
      await manager.query(
      `UPDATE agents a SET
         assignment_source = CASE WHEN $6::char(64) IS NULL THEN NULL ELSE 'group' END,
         assigned_version_id = $3::uuid, assigned_config = $4::jsonb, assigned_config_hash = $6::char(64), assigned_content_hash = $5::char(64),
         assigned_at = now(), failed_config_hash = NULL, updated_at = now()
       WHERE a.tenant_id = $1 AND a.group_id = $2 AND (a.assignment_source IS NULL OR a.assignment_source = 'group')
         AND (a.assigned_version_id IS DISTINCT FROM $3::uuid OR a.assigned_config_hash IS DISTINCT FROM $6::char(64))
       RETURNING a.id`,
      [tenantId, groupId, m?.versionId ?? null, m ? JSON.stringify(m.files) : null, m?.contentHash ?? null, m?.configHash ?? null],
      ),
    );
    return rows.map((r) => r.id);
  }

  /**
   * Sets the assignment of agents outright (direct, rollout, or back to their group's). An agent
   * already assigned the same version and config keeps its row's copy of the config: only the source
   * changes, an update in place (a completed rollout hands its agents back to their group this way,
   * decision 0435).
   */
  async setAssignment(manager: EntityManager, tenantId: string, ids: string[], material: AssignedMaterial | null, source: AssignmentSource | null): Promise<void> {
    if (ids.length === 0) return;
    const m = material;
    await manager.query(
      `UPDATE agents SET assignment_source = $3, assigned_version_id = $4::uuid,
         assigned_config = CASE WHEN assigned_version_id IS NOT DISTINCT FROM $4::uuid AND assigned_config_hash IS NOT DISTINCT FROM $6::char(64) THEN assigned_config ELSE $5::jsonb END,
         assigned_config_hash = $6::char(64),
         assigned_content_hash = $7::char(64),
         assigned_at = CASE WHEN assigned_config_hash IS NOT DISTINCT FROM $6::char(64) THEN assigned_at ELSE now() END,
         failed_config_hash = NULL, updated_at = now()
       WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [tenantId, ids, m ? source : null, m?.versionId ?? null, m ? JSON.stringify(m.files) : null, m?.configHash ?? null, m?.contentHash ?? null],
    );
  }

  /** What pushes need, for up to a few thousand agents. */
  async dispatchTargets(ids: string[]): Promise<DispatchTarget[]> {
    if (ids.length === 0) return [];
    const rows = await this.repo.find({ where: { id: In(ids) }, select: { id: true, tenantId: true, assignedConfig: true, assignedConfigHash: true, capabilities: true } });
    return rows.map((r) => ({ id: r.id, tenantId: r.tenantId, assignedConfig: r.assignedConfig, assignedConfigHash: r.assignedConfigHash, capabilities: r.capabilities }));
  }

  /** Last reported capabilities (decimal text) of each agent. */
  async capabilitiesOf(ids: string[]): Promise<Array<{ id: string; capabilities: string }>> {
    if (ids.length === 0) return [];
    const rows: Array<{ id: string; capabilities: string }> = await this.repo.query(`SELECT id, capabilities::text AS capabilities FROM agents WHERE id = ANY($1::uuid[])`, [ids]);
    return rows;
  }

  /** A page of agents for selector evaluation, in id order (`unpinnedOnly` for the reconciler). */
  async selectorPage(tenantId: string, afterId: string | null, limit: number, unpinnedOnly: boolean): Promise<SelectorRow[]> {
    const rows: Array<{ id: string; labels: Record<string, unknown>; tags: Record<string, string>; group_id: string | null; group_pinned: boolean }> = await this.repo.query(
      `SELECT id, labels, tags, group_id, group_pinned FROM agents
       WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ${unpinnedOnly ? 'AND NOT group_pinned' : ''}
       ORDER BY id LIMIT $3`,
      [tenantId, afterId, limit],
    );
    return rows.map((r) => ({ id: r.id, labels: r.labels ?? {}, tags: r.tags ?? {}, groupId: r.group_id, groupPinned: r.group_pinned }));
  }

  /** Of `ids`, those still in no group (restoring a group takes back only those). */
  async ungrouped(manager: EntityManager, tenantId: string, ids: string[]): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows: Array<{ id: string }> = await manager.query(`SELECT id FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND group_id IS NULL`, [tenantId, ids]);
    return rows.map((r) => r.id);
  }

  /** The tenant's agents counted by status (the same rule as the status filter) and by reported health. */
  async summary(tenantId: string, now: number, staleAfterSeconds: number): Promise<AgentCounts> {
    const { cutoff } = agentStatusCondition('connected', now, staleAfterSeconds) as { cutoff: Date };
    const [row] = await this.repo.query(
      `SELECT count(*)::int AS total,
              count(*) FILTER (WHERE connected AND last_seen_at >= $2)::int AS connected,
              count(*) FILTER (WHERE connected AND (last_seen_at IS NULL OR last_seen_at < $2))::int AS stale,
              count(*) FILTER (WHERE NOT connected)::int AS disconnected,
              count(*) FILTER (WHERE healthy = true)::int AS healthy,
              count(*) FILTER (WHERE healthy = false)::int AS unhealthy,
              count(*) FILTER (WHERE healthy IS NULL)::int AS "healthUnknown"
         FROM agents WHERE tenant_id = $1`,
      [tenantId, cutoff],
    );
    return row as AgentCounts;
  }

  list(filter: AgentFilter, page: PageQuery): Promise<Page<AgentEntity>> {
    const qb = this.repo.createQueryBuilder('a').where('a.tenantId = :tenantId', { tenantId: filter.tenantId });
    if (filter.status) {
      // the rule is agentStatusCondition's (domain/agent-derivations.ts); this only translates it
      const c = agentStatusCondition(filter.status, filter.now, filter.staleAfterSeconds);
      if (!c.connected) qb.andWhere('a.connected = false');
      else if (c.lastSeen === 'atOrAfter') qb.andWhere('a.connected = true AND a.lastSeenAt >= :cutoff', { cutoff: c.cutoff });
      else qb.andWhere('a.connected = true AND (a.lastSeenAt IS NULL OR a.lastSeenAt < :cutoff)', { cutoff: c.cutoff });
    }
    if (filter.health) qb.andWhere(filter.health === 'unknown' ? 'a.healthy IS NULL' : `a.healthy = ${filter.health === 'healthy' ? 'true' : 'false'}`);
    if (filter.assignedOnly) qb.andWhere('a.assignedConfigHash IS NOT NULL');
    if (filter.groupId === 'none') qb.andWhere('a.groupId IS NULL');
    else if (filter.groupId) qb.andWhere('a.groupId = :groupId', { groupId: filter.groupId });
    filter.labels?.forEach((l, i) => qb.andWhere(`a.labels @> CAST(:label${i} AS jsonb)`, { [`label${i}`]: JSON.stringify({ [l.key]: l.value }) }));
    filter.tags?.forEach((t, i) => qb.andWhere(`a.tags @> CAST(:tag${i} AS jsonb)`, { [`tag${i}`]: JSON.stringify({ [t.key]: t.value }) }));
    if (filter.text) {
      const like = `%${filter.text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      qb.andWhere(
        new Brackets((b) =>
          b.where('a.displayName ILIKE :like', { like }).orWhere('a.agentType ILIKE :like').orWhere('CAST(a.instanceUid AS text) ILIKE :like').orWhere('CAST(a.labels AS text) ILIKE :like'),
        ),
      );
    }
    return paginate(qb, { alias: 'a', column: 'createdAt', direction: 'DESC', query: page, key: (r) => r.createdAt.toISOString() });
  }

  /** Locks agents to forget them, in id order (no deadlocks with moves). */
  async lockForForget(manager: EntityManager, tenantId: string, ids: string[]): Promise<ForgettableAgent[]> {
    if (ids.length === 0) return [];
    const rows: Array<Record<string, unknown>> = await manager.query(
      `SELECT id, instance_uid, display_name, group_id, identity_kind, cert_fingerprint, tags, connected, disconnected_at, last_seen_at, created_at FROM agents
       WHERE tenant_id = $1 AND id = ANY($2::uuid[]) ORDER BY id FOR UPDATE`,
      [tenantId, ids],
    );
    return rows.map((r) => ({
      id: r.id as string,
      instanceUid: r.instance_uid as string,
      displayName: r.display_name as string,
      groupId: (r.group_id as string | null) ?? null,
      identityKind: r.identity_kind as string,
      certFingerprint: (r.cert_fingerprint as string | null) ?? null,
      tags: (r.tags as Record<string, string>) ?? {},
      connected: r.connected as boolean,
      disconnectedAt: r.disconnected_at ? new Date(r.disconnected_at as string) : null,
      lastSeenAt: r.last_seen_at ? new Date(r.last_seen_at as string) : null,
      createdAt: new Date(r.created_at as string),
    }));
  }

  /** Deletes agent rows (their rollout targets go with them: ON DELETE CASCADE). */
  async deleteMany(manager: EntityManager, tenantId: string, ids: string[]): Promise<void> {
    if (ids.length) await manager.query(`DELETE FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
  }

  /** Up to `limit` agents of any tenant past the retention, oldest first. */
  async departedBefore(cutoff: Date, limit: number): Promise<Array<{ id: string; tenantId: string }>> {
    const rows: Array<{ id: string; tenant_id: string }> = await this.repo.query(
      `SELECT id, tenant_id FROM agents WHERE ${DEPARTED(1)} ORDER BY tenant_id, id LIMIT $2`,
      [cutoff, limit],
    );
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id }));
  }

  /**
   * Replaces an agent's operator tags and recomputes its labels (attributes merged with the tags, as
   * the state writer does). Returns the tags before, or undefined when the agent does not exist.
   */
  async replaceTags(manager: EntityManager, tenantId: string, id: string, tags: Record<string, string>): Promise<{ before: Record<string, string> } | undefined> {
    const rows: Array<{ tags: Record<string, string> }> = await manager.query(`SELECT tags FROM agents WHERE tenant_id = $1 AND id = $2 ${CHANGE_LOCK}`, [tenantId, id]);
    if (!rows[0]) return undefined;
    await manager.query(
      `UPDATE agents SET tags = $3::jsonb, labels = non_identifying_attributes || identifying_attributes || $3::jsonb, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, id, JSON.stringify(tags)],
    );
    return { before: rows[0].tags ?? {} };
  }
}
