import { Injectable, OnModuleInit } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Clock, createLogger, LiveBus, Page, PageQuery, Principal, TransactionRunner, Tx } from '@ampora/platform';
import { parse } from 'yaml';
import { ApprovalOperation, ApprovalRequestRow, ApprovalRuleService, AuditService, LINT_FINDING_CODE, LintRuleService, LintRuleSet } from '@ampora/governance';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentRepository } from '../agents/agent.repository';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { ConfigurationVersionRepository } from './configuration-version.repository';
import { ConfigurationRepository } from './configuration.repository';
import { Finding } from './domain/collector-config';
import { agentCatalogue, groupComponentFindings } from './domain/component-availability';
import type { ConfigDiff } from './domain/config-diff';
import { yamlConfig } from './domain/config-files';
import { ConfigTextLimits } from './config-limits';
import { toConfigurationResponse, toVersionResponse } from './dto/configuration.dto';
import { ConfigurationVersionEntity } from './entities/configuration-version.entity';
import { ConfigurationEntity } from './entities/configuration.entity';

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const d = e.driverError ?? e;
  return d.code === '23505' && d.constraint === constraint;
}

/** What asking to publish a version did: published it, or (a tenant approval rule applies) opened an approval request. */
export interface PublishOutcome {
  version: ConfigurationVersionEntity;
  approvalId?: string;
}

/**
 * Configurations and their versions: YAML kept byte-for-byte, checked on every new text, numbered
 * per configuration, Draft → Published (immutable) → Archived. A version with an Error finding is
 * never published.
 */
@Injectable()
export class ConfigurationsService implements OnModuleInit {
  private readonly log = createLogger('Ampora.Fleet.Configurations.ConfigurationsService');

  constructor(
    private readonly clock: Clock,
    private readonly configurations: ConfigurationRepository,
    private readonly versions: ConfigurationVersionRepository,
    private readonly agents: AgentRepository,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    private readonly limits: ConfigTextLimits,
    private readonly lint: LintRuleService,
    private readonly approvalRules: ApprovalRuleService,
  ) {}

  onModuleInit(): void {
    // a publication that waited for a second person happens when it is approved, inside the decision's transaction
    this.approvalRules.registerOperation(ApprovalOperation.ConfigurationPublish, { onApproved: (tx, request, versionId) => this.publishApproved(tx, request, versionId) });
  }

  async create(caller: Principal, input: { name: string; description?: string }): Promise<ConfigurationEntity> {
    try {
      const row = await this.tx.run(async ({ manager }) => {
        if (await this.configurations.findByName(caller.tenantId, input.name, manager)) throw this.nameTaken(input.name);
        const c = await this.configurations.insert(manager, { tenantId: caller.tenantId, name: input.name, description: input.description ?? '', source: 'api', createdBy: caller.actor });
        await this.audit.record(manager, { entityType: 'Configuration', entityId: c.id, action: 'Created', after: toConfigurationResponse(c, null) });
        return c;
      });
      this.log.info('Configuration {ConfigurationId} ({Name}) created', { ConfigurationId: row.id, Name: row.name });
      return row;
    } catch (error) {
      if (isUniqueViolation(error, 'ux_configurations_tenant_name')) throw this.nameTaken(input.name);
      throw error;
    }
  }

  list(tenantId: string, page: PageQuery): Promise<Page<ConfigurationEntity>> {
    return this.configurations.list(tenantId, page);
  }

  async get(tenantId: string, id: string, manager?: EntityManager): Promise<ConfigurationEntity> {
    const c = await this.configurations.findInTenant(tenantId, id, manager);
    if (!c) throw new FleetException(FleetErrorCode.CONFIGURATION_NOT_FOUND, `Configuration ${id} was not found`);
    return c;
  }

  /** Highest Published version number of each configuration. */
  publishedNumbers(ids: string[]): Promise<Map<string, number>> {
    return this.versions.latestPublished(ids);
  }

  /** Adds a Draft version with the next number; its findings are computed now and kept with it. */
  async createVersion(caller: Principal, configurationId: string, yaml: string): Promise<ConfigurationVersionEntity> {
    return this.addVersion(caller, yaml, { sourceRef: null, createdBy: caller.actor }, async (manager) => {
      const c = await this.configurations.lock(manager, caller.tenantId, configurationId);
      if (!c) throw new FleetException(FleetErrorCode.CONFIGURATION_NOT_FOUND, `Configuration ${configurationId} was not found`);
      if (c.source === 'git') throw managedByGit(c.name);
      return c;
    });
  }

  /**
   * GitOps' way in: the Git-managed configuration of this name (created with source `git` when new)
   * gets a Draft version of the text through the same path as createVersion, unless its latest
   * version already holds exactly this text (a retried sweep imports nothing twice). A name an
   * API-authored configuration holds is refused (CONFIGURATION_NAME_TAKEN).
   */
  async importFromGit(caller: Principal, input: { name: string; yaml: string; sourceRef: string; author: string }): Promise<{ configurationId: string; version: ConfigurationVersionEntity | null }> {
    const contentHash = yamlConfig(input.yaml).contentHash;
    let configurationId = '';
    const version = await this.addVersion(caller, input.yaml, { sourceRef: input.sourceRef.slice(0, 200), createdBy: input.author.slice(0, 200) || caller.actor }, async (manager) => {
      let c = await this.configurations.findByName(caller.tenantId, input.name, manager);
      if (c && c.source !== 'git') throw this.nameTaken(input.name);
      if (!c) {
        c = await this.configurations.insert(manager, { tenantId: caller.tenantId, name: input.name, description: '', source: 'git', createdBy: caller.actor });
        await this.audit.record(manager, { entityType: 'Configuration', entityId: c.id, action: 'Created', after: toConfigurationResponse(c, null) });
      }
      const locked = (await this.configurations.lock(manager, caller.tenantId, c.id))!;
      configurationId = locked.id;
      const latest = locked.latestVersion > 0 ? await this.versions.findByNumber(locked.id, locked.latestVersion, manager) : null;
      return latest?.contentHash === contentHash ? null : locked;
    });
    return { configurationId, version };
  }

  private async addVersion<C extends ConfigurationEntity | null>(
    caller: Principal,
    yaml: string,
    origin: { sourceRef: string | null; createdBy: string },
    target: (manager: EntityManager) => Promise<C>,
  ): Promise<C extends null ? ConfigurationVersionEntity | null : ConfigurationVersionEntity> {
    const findings = await this.validate(caller.tenantId, yaml);
    const hashed = yamlConfig(yaml);
    const version = await this.tx.run(async ({ manager, afterCommit }) => {
      const c = await target(manager);
      if (!c) return null;
      const configurationId = c.id;
      const number = c.latestVersion + 1;
      const v = await this.versions.insert(manager, {
        tenantId: caller.tenantId,
        configurationId,
        number,
        yaml,
        contentHash: hashed.contentHash,
        configHash: hashed.configHash,
        files: hashed.stored,
        findings,
        errorCount: count(findings, 'Error'),
        warningCount: count(findings, 'Warning'),
        sourceRef: origin.sourceRef,
        createdBy: origin.createdBy,
      });
      await this.configurations.bumpVersion(manager, c.id, number);
      await this.audit.record(manager, { entityType: 'ConfigurationVersion', entityId: v.id, action: 'Created', after: auditView(v), additional: { configurationId, configurationName: c.name } });
      afterCommit(() =>
        this.bus.publish<FleetEvent>({
          type: FleetEvents.ConfigurationVersionCreated,
          tenantId: caller.tenantId,
          entityId: v.id,
          payload: { configurationId, versionId: v.id, number, status: v.status, hash: v.contentHash, errorCount: v.errorCount, warningCount: v.warningCount },
        }),
      );
      return v;
    });
    if (version) {
      this.log.info('Configuration {ConfigurationId} version {Number} created with {Errors} errors and {Warnings} warnings', {
        ConfigurationId: version.configurationId,
        Number: version.number,
        Errors: version.errorCount,
        Warnings: version.warningCount,
      });
    }
    return version as never;
  }

  /** Replaces the text of a Draft (checked again). Published and Archived versions never change. */
  async updateDraft(caller: Principal, configurationId: string, number: number, yaml: string): Promise<ConfigurationVersionEntity> {
    const findings = await this.validate(caller.tenantId, yaml);
    const hashed = yamlConfig(yaml);
    return this.tx.run(async ({ manager }) => {
      const c = await this.get(caller.tenantId, configurationId, manager);
      if (c.source === 'git') throw managedByGit(c.name);
      const v = await this.lockVersion(manager, caller.tenantId, configurationId, number);
      if (v.status !== 'Draft') throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_IMMUTABLE, `Version ${number} is ${v.status} and can no longer change; create a new version`, { status: v.status });
      const before = auditView(v);
      Object.assign(v, { yaml, contentHash: hashed.contentHash, configHash: hashed.configHash, files: hashed.stored, findings, errorCount: count(findings, 'Error'), warningCount: count(findings, 'Warning') });
      const saved = await this.versions.save(manager, v);
      await this.configurations.touch(manager, configurationId);
      await this.audit.record(manager, { entityType: 'ConfigurationVersion', entityId: v.id, action: 'Updated', before, after: auditView(saved) });
      return saved;
    });
  }

  async listVersions(tenantId: string, configurationId: string, page: PageQuery): Promise<Page<ConfigurationVersionEntity>> {
    await this.get(tenantId, configurationId);
    return this.versions.list(configurationId, page);
  }

  async getVersion(tenantId: string, configurationId: string, number: number, manager?: EntityManager): Promise<ConfigurationVersionEntity> {
    const c = await this.get(tenantId, configurationId, manager);
    const v = await this.versions.findByNumber(c.id, number, manager);
    if (!v) throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_FOUND, `Configuration ${c.name} has no version ${number}`);
    return v;
  }

  /**
   * Draft → Published, unless a tenant approval rule applies to this publication (decision 0400):
   * then the version stays Draft and an approval request opens (asked again while pending: reset);
   * it is published when another person approves it. A version that could not be published is
   * refused at once either way (no request opens for it).
   */
  async publish(caller: Principal, configurationId: string, number: number): Promise<PublishOutcome> {
    let approvalId: string | undefined;
    const version = await this.tx.run(async (tx) => {
      const v = await this.lockVersion(tx.manager, caller.tenantId, configurationId, number);
      const findings = await this.publishable(tx.manager, caller.tenantId, v);
      const c = await this.get(caller.tenantId, configurationId, tx.manager);
      const context = { tenant: caller.tenantName, actor: caller.actor, configuration: { id: c.id, name: c.name }, version: { id: v.id, number: v.number, warningCount: count(findings, 'Warning') } };
      const required = await this.approvalRules.required(caller.tenantId, ApprovalOperation.ConfigurationPublish, context, tx.manager);
      if (!required) return this.markPublished(tx, v, findings, caller.actor);
      const request = await this.approvalRules.requestFor(tx, caller, {
        operation: ApprovalOperation.ConfigurationPublish,
        entityId: v.id,
        title: `Publish ${c.name} version ${v.number}`,
        before: { status: v.status },
        after: { status: 'Published', configuration: context.configuration, version: context.version },
        required,
      });
      approvalId = request.id;
      return v;
    });
    return approvalId ? { version, approvalId } : { version };
  }

  /** An approved publication (decision 0400): inside the decision's transaction, checked again as it is now. */
  private async publishApproved(tx: Tx, request: ApprovalRequestRow, versionId: string): Promise<void> {
    const found = await this.versions.findById(request.tenantId, versionId, tx.manager);
    const c = found ? await this.configurations.findInTenant(request.tenantId, found.configurationId, tx.manager) : null;
    if (!found || !c) throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_FOUND, `Configuration version ${versionId} was not found`);
    const v = await this.lockVersion(tx.manager, request.tenantId, c.id, found.number);
    // no longer a Draft, or now failing a lint rule: the approval fails and stays pending
    const findings = await this.publishable(tx.manager, request.tenantId, v);
    await this.markPublished(tx, v, findings, request.decidedBy ?? 'approval', { approvalId: request.id });
  }

  /** Refuses a version that cannot be published; its findings with the tenant's lint rules as they are now. */
  private async publishable(manager: EntityManager, tenantId: string, v: ConfigurationVersionEntity): Promise<Finding[]> {
    const number = v.number;
    if (v.status !== 'Draft') {
      throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_INVALID_TRANSITION, `Version ${number} is ${v.status}; only a Draft can be published`, { status: v.status });
    }
    if (v.findings.some((f) => f.severity === 'Error' && f.code !== LINT_FINDING_CODE)) {
      throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_HAS_ERRORS, `Version ${number} has ${v.errorCount} error(s) and cannot be published`, {
        findings: v.findings.filter((f) => f.severity === 'Error'),
      });
    }
    // the tenant's lint rules as they are now (a rule added or disabled since the draft counts)
    const findings = [...v.findings.filter((f) => f.code !== LINT_FINDING_CODE), ...(await this.lintFindings(tenantId, v.yaml, manager))];
    const lintErrors = findings.filter((f) => f.severity === 'Error');
    if (lintErrors.length > 0) {
      throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_LINT_ERRORS, `Version ${number} breaks ${lintErrors.length} lint rule(s) of severity Error and cannot be published`, { findings: lintErrors });
    }
    return findings;
  }

  private async markPublished(tx: Tx, v: ConfigurationVersionEntity, findings: Finding[], publishedBy: string, additional?: Record<string, unknown>): Promise<ConfigurationVersionEntity> {
    const { manager, afterCommit } = tx;
    const configurationId = v.configurationId;
    const number = v.number;
    const before = auditView(v);
    Object.assign(v, { findings, errorCount: 0, warningCount: count(findings, 'Warning') });
    v.status = 'Published';
    v.publishedAt = this.clock.now();
    v.publishedBy = publishedBy;
    const saved = await this.versions.save(manager, v);
    await this.configurations.touch(manager, configurationId);
    await this.audit.record(manager, { entityType: 'ConfigurationVersion', entityId: v.id, action: 'Published', before, after: auditView(saved), ...(additional ? { additional } : {}) });
    afterCommit(() => {
      this.bus.publish<FleetEvent>({ type: FleetEvents.ConfigurationVersionPublished, tenantId: v.tenantId, entityId: v.id, payload: { configurationId, versionId: v.id, number, hash: v.contentHash } });
      this.log.info('Configuration {ConfigurationId} version {Number} published', { ConfigurationId: configurationId, Number: number });
    });
    return saved;
  }

  async archive(caller: Principal, configurationId: string, number: number): Promise<ConfigurationVersionEntity> {
    return this.tx.run(async ({ manager, afterCommit }) => {
      const v = await this.lockVersion(manager, caller.tenantId, configurationId, number);
      if (v.status === 'Archived') throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_INVALID_TRANSITION, `Version ${number} is already Archived`, { status: v.status });
      const usage = await this.versions.usage(manager, v.id);
      if (usage.groups + usage.agents > 0) {
        throw new FleetException(
          FleetErrorCode.CONFIGURATION_VERSION_IN_USE,
          `Version ${number} is assigned to ${usage.groups} group(s) and ${usage.agents} agent(s); assign another version before archiving it`,
          usage,
        );
      }
      const before = auditView(v);
      v.status = 'Archived';
      v.archivedAt = this.clock.now();
      v.archivedBy = caller.actor;
      const saved = await this.versions.save(manager, v);
      await this.configurations.touch(manager, configurationId);
      await this.audit.record(manager, { entityType: 'ConfigurationVersion', entityId: v.id, action: 'Archived', before, after: auditView(saved) });
      afterCommit(() => this.bus.publish<FleetEvent>({ type: FleetEvents.ConfigurationVersionArchived, tenantId: caller.tenantId, entityId: v.id, payload: { configurationId, versionId: v.id, number } }));
      return saved;
    });
  }

  async compare(tenantId: string, configurationId: string, from: number, to: number): Promise<{ from: ConfigurationVersionEntity; to: ConfigurationVersionEntity; diff: ConfigDiff }> {
    const c = await this.get(tenantId, configurationId);
    const a = await this.getVersion(tenantId, configurationId, from);
    const b = await this.getVersion(tenantId, configurationId, to);
    return { from: a, to: b, diff: await this.limits.diff(a.yaml, b.yaml, { from: `${c.name} v${from}`, to: `${c.name} v${to}` }) };
  }

  /**
   * What storing `yaml` as a new version would find, and its diff against a stored version (the
   * latest by default), without storing anything: `ampora diff` and `apply --dry-run=server`.
   */
  async check(tenantId: string, input: { yaml: string; configurationId?: string; version?: number }): Promise<ConfigurationCheck> {
    const findings = await this.validate(tenantId, input.yaml);
    const result: ConfigurationCheck = { findings, errorCount: count(findings, 'Error'), warningCount: count(findings, 'Warning'), against: null, diff: null };
    if (!input.configurationId) return result;
    const c = await this.get(tenantId, input.configurationId);
    const number = input.version ?? c.latestVersion;
    if (number < 1) return result;
    const v = await this.getVersion(tenantId, c.id, number);
    result.against = { number: v.number, hash: v.contentHash, status: v.status };
    result.diff = await this.limits.diff(v.yaml, input.yaml, { from: `${c.name} v${number}`, to: `${c.name} (proposed)` });
    return result;
  }

  /**
   * The version's findings, checked again against the components an agent reported (when given), or
   * validated against every agent of a group (decision 0330: one Error finding per component some
   * agents of the group lack — the push would skip them).
   */
  async findingsFor(tenantId: string, configurationId: string, number: number, target: { agentId?: string; groupId?: string } = {}): Promise<Finding[]> {
    const v = await this.getVersion(tenantId, configurationId, number);
    if (target.groupId) {
      const members = await this.agents.groupCatalogues(tenantId, target.groupId);
      if (!members) throw new FleetException(FleetErrorCode.GROUP_NOT_FOUND, `Group ${target.groupId} was not found`);
      const holders = members.map((m) => ({ agentId: m.id, catalogue: agentCatalogue(m.availableComponents, m.nonIdentifyingAttributes) }));
      return [...v.findings, ...groupComponentFindings(parsedOrNull(v.yaml), holders)];
    }
    if (!target.agentId) return v.findings;
    const agent = await this.agents.findInTenant(tenantId, target.agentId);
    if (!agent) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${target.agentId} was not found`);
    const rules = await this.lint.activeRules(tenantId);
    const parsed = await this.limits.parseStored(v.yaml, { available: agentCatalogue(agent.availableComponents, agent.nonIdentifyingAttributes), document: rules.size > 0 });
    return [...parsed.findings, ...lintOn(rules, parsed.document)];
  }

  /**
   * Version validation: syntax and semantic findings (parsed off the event loop, refused over a
   * limit), then the tenant's Active lint rules on a text that parsed (decision 0300).
   */
  private async validate(tenantId: string, yaml: string): Promise<Finding[]> {
    const rules = await this.lint.activeRules(tenantId);
    // one parse: when the tenant has lint rules, the worker's result carries the document they read
    const parsed = await this.limits.parse(yaml, { tenantId, source: 'version' }, { document: rules.size > 0 });
    return parsed.model ? [...parsed.findings, ...lintOn(rules, parsed.document)] : parsed.findings;
  }

  /** The findings of the tenant's Active lint rules on a stored text within the limits (none for a text that does not parse). */
  private async lintFindings(tenantId: string, yaml: string, manager?: EntityManager): Promise<Finding[]> {
    const rules = await this.lint.activeRules(tenantId, manager);
    if (rules.size === 0) return [];
    let document: unknown;
    try {
      document = parse(yaml, { maxAliasCount: this.limits.yaml.maxAliases });
    } catch {
      return [];
    }
    return lintOn(rules, document);
  }

  private async lockVersion(manager: EntityManager, tenantId: string, configurationId: string, number: number): Promise<ConfigurationVersionEntity> {
    const c = await this.get(tenantId, configurationId, manager);
    const v = await manager.getRepository(ConfigurationVersionEntity).findOne({ where: { configurationId: c.id, number }, lock: { mode: 'pessimistic_write' } });
    if (!v) throw new FleetException(FleetErrorCode.CONFIGURATION_VERSION_NOT_FOUND, `Configuration ${c.name} has no version ${number}`);
    return v;
  }

  private nameTaken(name: string): FleetException {
    return new FleetException(FleetErrorCode.CONFIGURATION_NAME_TAKEN, `A configuration named ${JSON.stringify(name)} already exists`);
  }
}

/** The rules' findings on a parsed document (none without rules, or without a document: the text did not parse to one). */
function lintOn(rules: LintRuleSet, document: unknown): Finding[] {
  return rules.size === 0 || document === undefined ? [] : rules.check(document);
}

function managedByGit(name: string): FleetException {
  return new FleetException(FleetErrorCode.CONFIGURATION_MANAGED_BY_GIT, `Configuration ${name} is managed by GitOps; change it in its Git repository`);
}

export interface ConfigurationCheck {
  findings: Finding[];
  errorCount: number;
  warningCount: number;
  against: { number: number; hash: string; status: string } | null;
  diff: ConfigDiff | null;
}

/** A stored version's text as a plain object (it passed the limits when it was stored); null when unreadable. */
function parsedOrNull(text: string): unknown {
  try {
    return parse(text);
  } catch {
    return null;
  }
}

function count(findings: Finding[], severity: Finding['severity']): number {
  return findings.filter((f) => f.severity === severity).length;
}

/** A version in the audit log: everything but the YAML text itself (its hash identifies it). */
function auditView(v: ConfigurationVersionEntity) {
  const { yaml: _yaml, findings: _findings, ...rest } = toVersionResponse(v);
  return rest;
}
