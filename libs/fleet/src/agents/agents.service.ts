import { Inject, Injectable } from '@nestjs/common';
import { parseDocument } from 'yaml';
import { AMPORA_CONFIG, AmporaConfig, AuditService, createLogger, Page, PageQuery, Principal, TransactionRunner } from '@ampora/platform';
import { AGENT_DISPATCHER, AgentDispatcher, configContentHash, ConfigFiles, desiredConfig, DispatchOutcome } from '@ampora/opamp';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { AgentFilter, AgentRepository } from './agent.repository';
import { AgentStatus } from './domain/agent-derivations';
import { toStoredFiles } from './domain/stored-config';
import { AgentEntity } from './entities/agent.entity';

/** The content type and file name under which a single YAML config is sent to agents. */
export const YAML_CONTENT_TYPE = 'text/yaml';
export const CONFIG_FILE_KEY = '';

/** The agent inventory as operators see it, and the first operator actions on agents. */
@Injectable()
export class AgentsService {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentsService');

  constructor(
    private readonly agents: AgentRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  get staleAfterSeconds(): number {
    return this.config.opamp.heartbeatWindowSeconds;
  }

  list(tenantId: string, filter: { status?: AgentStatus; labels?: AgentFilter['labels']; text?: string }, page: PageQuery): Promise<Page<AgentEntity>> {
    return this.agents.list({ tenantId, ...filter, staleAfterSeconds: this.staleAfterSeconds }, page);
  }

  async get(tenantId: string, id: string): Promise<AgentEntity> {
    const agent = await this.agents.findInTenant(tenantId, id);
    if (!agent) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
    return agent;
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
  async assignYaml(caller: Principal, id: string, yaml: string): Promise<{ agentId: string; configHash: string; delivery: DispatchOutcome }> {
    const doc = parseDocument(yaml, { prettyErrors: false });
    if (doc.errors.length) {
      throw new FleetException(FleetErrorCode.INVALID_CONFIG, 'The configuration is not valid YAML', {
        errors: doc.errors.map((e) => ({ field: 'yaml', message: `${e.message}${e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}` })),
      });
    }
    const files: ConfigFiles = { [CONFIG_FILE_KEY]: { body: Buffer.from(yaml, 'utf8'), contentType: YAML_CONTENT_TYPE } };
    const desired = desiredConfig(files);
    const agent = await this.tx.run(async ({ manager }) => {
      const row = await this.agents.findInTenant(caller.tenantId, id, manager);
      if (!row) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      await this.agents.setAssignedConfig(manager, row.id, { files: toStoredFiles(files), hash: desired.hash, contentHash: configContentHash(files), at: new Date() });
      await this.audit.record(manager, {
        entityType: 'Agent',
        entityId: row.id,
        action: 'ConfigAssigned',
        before: { assignedConfigHash: row.assignedConfigHash },
        after: { assignedConfigHash: desired.hash },
      });
      return row;
    });
    const delivery = await this.dispatcher.pushRemoteConfig({ agentId: agent.id, tenantId: agent.tenantId }, desired, { force: true });
    this.log.info('Assigned config {ConfigHash} to agent {AgentId}: {Delivery}', { ConfigHash: desired.hash, AgentId: agent.id, Delivery: delivery });
    return { agentId: agent.id, configHash: desired.hash, delivery };
  }
}
