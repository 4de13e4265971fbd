import { AVAILABLE_COMPONENTS_CHECK } from '../push-checks/available-components.check';
import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, encodeCursor, mapPage, Page, PageQuery, Principal } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { AGENT_DISPATCHER, AgentDispatcher, DispatchOutcome } from '@ampora/opamp';
import { AssignmentService } from '../assignment/assignment.service';
import { ConfigurationVersionRepository } from '../configurations/configuration-version.repository';
import type { ConfigDiff } from '../configurations/domain/config-diff';
import { yamlConfig } from '../configurations/domain/config-files';
import { ConfigTextLimits } from '../configurations/config-limits';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { AgentCounts, AgentFilter, AgentRepository } from './agent.repository';
import { AgentConfigEventRepository } from './agent-config-event.repository';
import { agentDrift, configText, DRIFT_MEMO } from './agent-drift';
import { DriftAssessment, DriftVerdict } from './domain/config-drift';
import { AgentStatus } from './domain/agent-derivations';
import { fromStoredFiles } from './domain/stored-config';
import { AgentAssignment, CertificateOfferView, toCertificateOfferView } from './dto/agent.dto';
import { FleetAgentAuthenticator } from './agent-authenticator.service';
import { AgentEntity } from './entities/agent.entity';
import { PushedConfig, PushGate } from '../push-checks/push-gate.service';

export { YAML_CONTENT_TYPE, CONFIG_FILE_KEY } from '../configurations/domain/config-files';

export type AgentListFilter = Pick<AgentFilter, 'status' | 'health' | 'labels' | 'tags' | 'text' | 'groupId'> & { drift?: DriftVerdict };

/** Rows read at a time while a drift filter looks for a page of matches. */
const DRIFT_SCAN_ROWS = 500;
/** Rows one request reads at most with a drift filter (then it answers with a cursor to go on from). */
const DRIFT_SCAN_MAX_ROWS = 2_000;
/** Verdicts parsed between two turns of the event loop. */
const DRIFT_PARSES_PER_TURN = 8;

/** The agent inventory as operators see it, and what they assign to one agent. */
@Injectable()
export class AgentsService {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentsService');

  constructor(
    private readonly clock: Clock,
    private readonly agents: AgentRepository,
    private readonly history: AgentConfigEventRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly assignment: AssignmentService,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    private readonly authenticator: FleetAgentAuthenticator,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly limits: ConfigTextLimits,
    private readonly gate: PushGate,
  ) {}

  get staleAfterSeconds(): number {
    return this.config.opamp.heartbeatWindowSeconds;
  }

  /** The tenant's agents counted by status and health (the dashboard). */
  summary(tenantId: string): Promise<AgentCounts> {
    return this.agents.summary(tenantId, this.clock.nowMs(), this.staleAfterSeconds);
  }

  /**
   * A page of the inventory. With a drift filter the rows are read in keyset order and kept when their
   * drift (the drift view's verdict, memoised per assigned/effective pair) is the one asked for, until
   * the page is full; the cursor is the last kept row's, so paging stays exact. One request reads at
   * most DRIFT_SCAN_MAX_ROWS rows: past that it answers the matches so far with a cursor to go on from
   * (a page may then hold fewer items than asked, yet have a next one). Parsing for a verdict not yet
   * memoised gives the event loop back every few agents, so heartbeats are not held up.
   */
  async list(tenantId: string, filter: AgentListFilter, page: PageQuery): Promise<Page<AgentEntity>> {
    const { drift: want, ...rest } = filter;
    const base = { tenantId, ...rest, staleAfterSeconds: this.staleAfterSeconds, now: this.clock.nowMs() };
    if (want === undefined) return this.agents.list(base, page);
    const items: AgentEntity[] = [];
    let cursor = page.cursor;
    let scanned = 0;
    let parsed = 0;
    for (;;) {
      const chunk = await this.agents.list({ ...base, assignedOnly: want !== 'unknown' }, { limit: DRIFT_SCAN_ROWS, cursor });
      scanned += chunk.items.length;
      for (let i = 0; i < chunk.items.length; i++) {
        const a = chunk.items[i]!;
        if (DRIFT_MEMO.quick(a) === undefined && ++parsed % DRIFT_PARSES_PER_TURN === 0) await new Promise((r) => setImmediate(r));
        if (DRIFT_MEMO.verdict(a) !== want) continue;
        items.push(a);
        if (items.length === page.limit) {
          const more = i < chunk.items.length - 1 || chunk.nextCursor !== null;
          return { items, nextCursor: more ? encodeCursor('a.createdAt:DESC', a.createdAt.toISOString(), a.id) : null };
        }
      }
      if (!chunk.nextCursor) return { items, nextCursor: null };
      if (scanned >= DRIFT_SCAN_MAX_ROWS) return { items, nextCursor: chunk.nextCursor };
      cursor = chunk.nextCursor;
    }
  }

  /** The version (configuration and number) each config hash is, in this tenant. */
  versionsOf(tenantId: string, hashes: string[]) {
    return this.versions.byConfigHashes(tenantId, hashes);
  }

  /** The agent's remote-config history, newest first: pushes and the statuses it reported. */
  async configHistory(tenantId: string, id: string, page: PageQuery) {
    await this.get(tenantId, id);
    const events = await this.history.list(tenantId, id, page);
    const versions = await this.versions.byConfigHashes(tenantId, events.items.map((e) => e.configHash));
    return mapPage(events, (e) => ({ at: e.at.toISOString(), kind: e.kind, configHash: e.configHash, version: versions.get(e.configHash) ?? null, message: e.message }));
  }

  async get(tenantId: string, id: string): Promise<AgentEntity> {
    const agent = await this.agents.findInTenant(tenantId, id);
    if (!agent) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
    return agent;
  }

  /** Where the agent's assigned config comes from (configuration and version number when versioned). */
  /** The agent's latest certificate offer (decision 0121), or null. */
  async certificateOfferOf(agent: AgentEntity): Promise<CertificateOfferView | null> {
    const offer = await this.authenticator.certificateOffer(agent.id);
    return offer ? toCertificateOfferView(offer) : null;
  }

  async assignmentOf(agent: AgentEntity): Promise<AgentAssignment | null> {
    if (!agent.assignmentSource) return null;
    const v = agent.assignedVersionId ? (await this.versions.describe([agent.assignedVersionId])).get(agent.assignedVersionId) : undefined;
    return { source: agent.assignmentSource, versionId: agent.assignedVersionId, configurationId: v?.configurationId ?? null, version: v?.number ?? null };
  }

  /** Closes the agent's live session so it reconnects. */
  async disconnect(caller: Principal, id: string): Promise<DispatchOutcome> {
    const agent = await this.get(caller.tenantId, id);
    const outcome = await this.dispatcher.disconnect({ agentId: agent.id, tenantId: agent.tenantId }, 'disconnected by an operator');
    await this.audit.record(undefined, { entityType: 'Agent', entityId: agent.id, action: 'Disconnected', additional: { delivery: outcome } });
    return outcome;
  }

  /**
   * Assigns a YAML config to one agent and pushes it. The text is kept byte-for-byte; it must parse as
   * YAML. An agent without AcceptsRemoteConfig keeps the assignment and is reported as `cap_mismatch`.
   */
  async assignYaml(caller: Principal, id: string, yaml: string): Promise<{ agentId: string; versionId: null; configHash: string; delivery: DispatchOutcome }> {
    // bounded, and parsed off the event loop (decision 0130); only YAML syntax refuses a raw assignment
    const syntax = (await this.limits.parse(yaml, { tenantId: caller.tenantId, source: 'assignment' })).findings.filter((f) => f.code === 'YAML_SYNTAX');
    if (syntax.length) {
      throw new FleetException(FleetErrorCode.INVALID_CONFIG, 'The configuration is not valid YAML', {
        errors: syntax.map((f) => ({ field: 'yaml', message: f.line ? `${f.message} (line ${f.line}, column ${f.column})` : f.message })),
      });
    }
    const config = yamlConfig(yaml);
    // the push below is this change's: a session that read the assignment after this moment has it already
    const since = this.clock.nowMs();
    await this.refuseIfDenied(caller.tenantId, id, { files: config.stored, hash: config.configHash, versionId: null });
    const agent = await this.tx.run(async ({ manager }) => {
      const [row] = await this.agents.lockForChange(manager, caller.tenantId, [id]);
      if (!row) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      await this.agents.setAssignment(manager, caller.tenantId, [row.id], { versionId: null, files: config.stored, configHash: config.configHash, contentHash: config.contentHash }, 'direct');
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: row.id,
        action: 'ConfigAssigned',
        before: { assignedConfigHash: row.assignedConfigHash, source: row.assignmentSource },
        after: { assignedConfigHash: config.configHash, source: 'direct', versionId: null },
      });
      return row;
    });
    const delivery = await this.dispatcher.pushRemoteConfig({ agentId: agent.id, tenantId: caller.tenantId }, { files: config.files, hash: config.configHash }, { force: true, since });
    this.log.info('Assigned config {ConfigHash} to agent {AgentId}: {Delivery}', { ConfigHash: config.configHash, AgentId: agent.id, Delivery: delivery });
    return { agentId: agent.id, versionId: null, configHash: config.configHash, delivery };
  }

  /** Assigns a Published version to one agent directly (it wins over its group's) and pushes it. */
  async assignVersion(caller: Principal, id: string, ref: { configurationId: string; version: number }): Promise<{ agentId: string; versionId: string; configHash: string; delivery: DispatchOutcome }> {
    // the push below is this change's: a session that read the assignment after this moment has it already
    const since = this.clock.nowMs();
    const wanted = await this.tx.run(({ manager }) => this.assignment.publishedVersion(manager, caller.tenantId, ref.configurationId, ref.version));
    await this.refuseIfDenied(caller.tenantId, id, { files: wanted.files, hash: wanted.configHash, versionId: wanted.id });
    const version = await this.tx.run(async ({ manager }) => {
      const [row] = await this.agents.lockForChange(manager, caller.tenantId, [id]);
      if (!row) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      const v = await this.assignment.publishedVersion(manager, caller.tenantId, ref.configurationId, ref.version);
      await this.assignment.assignVersion(manager, caller.tenantId, [row.id], v, 'direct');
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: row.id,
        action: 'ConfigAssigned',
        before: { assignedConfigHash: row.assignedConfigHash, source: row.assignmentSource },
        after: { assignedConfigHash: v.configHash, source: 'direct', versionId: v.id, configurationId: v.configurationId, version: v.number },
      });
      return v;
    });
    const delivery = await this.dispatcher.pushRemoteConfig({ agentId: id, tenantId: caller.tenantId }, { files: fromStoredFiles(version.files), hash: version.configHash }, { force: true, since });
    this.log.info('Assigned version {VersionId} to agent {AgentId}: {Delivery}', { VersionId: version.id, AgentId: id, Delivery: delivery });
    return { agentId: id, versionId: version.id, configHash: version.configHash, delivery };
  }

  /**
   * The push-time checks for a one-agent assignment (decision 0275): a denied assignment is refused
   * with 422 PUSH_DENIED_BY_POLICY and changes nothing but the agent's recorded denial.
   */
  private async refuseIfDenied(tenantId: string, agentId: string, config: PushedConfig): Promise<void> {
    const denial = (await this.gate.screen({ tenantId, path: 'assignment', agentIds: [agentId], config })).get(agentId);
    if (!denial) return;
    if (denial.check === AVAILABLE_COMPONENTS_CHECK) {
      throw new FleetException(FleetErrorCode.PUSH_COMPONENT_UNAVAILABLE, `Agent ${agentId} cannot run this configuration: ${denial.reason}`, { agentId, check: denial.check, reason: denial.reason });
    }
    throw new FleetException(FleetErrorCode.PUSH_DENIED_BY_POLICY, `Policy ${denial.policyName} denies this configuration for agent ${agentId}: ${denial.reason}`, { agentId, check: denial.check, policyId: denial.policyId, policyName: denial.policyName, reason: denial.reason });
  }

  /** Drops the agent's own assignment: it runs its group's version again (pushed when that differs). */
  async clearAssignment(caller: Principal, id: string): Promise<{ agentId: string; assignment: AgentAssignment | null; configHash: string | null; delivery: DispatchOutcome | null }> {
    const changed = await this.tx.run(async ({ manager }) => {
      const [row] = await this.agents.lockForChange(manager, caller.tenantId, [id]);
      if (!row) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      const own = row.assignmentSource === 'direct' || row.assignmentSource === 'rollout';
      const now = own ? await this.assignment.revertToGroup(manager, caller.tenantId, row) : null;
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: row.id,
        action: 'AssignmentCleared',
        before: { assignedConfigHash: row.assignedConfigHash, source: row.assignmentSource },
        after: now ? { assignedConfigHash: now.material?.configHash ?? null, source: now.material ? 'group' : null, versionId: now.material?.versionId ?? null } : { assignedConfigHash: row.assignedConfigHash, source: row.assignmentSource },
        additional: { hadOwnAssignment: own },
      });
      const didChange = now?.changed ?? false;
      return didChange;
    });
    const agent = await this.get(caller.tenantId, id);
    let delivery: DispatchOutcome | null = null;
    // the group's version is pushed unless a push-time check denies it (then the denial is on the agent)
    const allowed = changed && agent.assignedConfig && agent.assignedConfigHash && !(await this.gate.screen({ tenantId: caller.tenantId, path: 'assignment', agentIds: [id] })).has(id);
    if (allowed && agent.assignedConfig && agent.assignedConfigHash) {
      delivery = await this.dispatcher.pushRemoteConfig({ agentId: id, tenantId: caller.tenantId }, { files: fromStoredFiles(agent.assignedConfig), hash: agent.assignedConfigHash }, {});
    }
    return { agentId: id, assignment: await this.assignmentOf(agent), configHash: agent.assignedConfigHash, delivery };
  }

  /**
   * Assigned vs effective config: the drift verdict and why, every difference marked as counting or
   * not, and the unified and semantic diffs of the texts. `identical`: the two texts are the same.
   */
  async drift(tenantId: string, id: string): Promise<ConfigDiff & DriftAssessment & { agent: AgentEntity }> {
    const agent = await this.get(tenantId, id);
    const assessment = agentDrift(agent);
    // an effective config flagged too large to analyse is never parsed again: drift is unknown (decision 0131)
    if (agent.effectiveConfigTooLarge) return { identical: false, unified: '', semantic: null, ...assessment, agent };
    const assigned = configText(agent.assignedConfig);
    const effective = configText(agent.effectiveConfig);
    const diff = assigned !== null && effective !== null ? await this.limits.diff(assigned, effective, { from: 'assigned', to: 'effective' }) : { identical: false, unified: '', semantic: null };
    return { ...diff, ...assessment, agent };
  }
}
