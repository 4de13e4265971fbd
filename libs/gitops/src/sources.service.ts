import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, base32Encode, Clock, createLogger, hashToken, LiveBus, Metrics, Page, PageQuery, Principal, TenantLabels, TransactionRunner, Tx } from '@ampora/platform';
import { ApprovalOperation, ApprovalRequestRow, ApprovalRuleService, AuditService } from '@ampora/governance';
import type { GroupAssignment } from './domain/group-assignment';
import { GitSourceEditRepository } from './git-source-edit.repository';
import { compileGlob, InvalidGlobError } from './domain/path-glob';
import { credentialFits, isValidBranch, repositoryTransport } from './domain/source-rules';
import { CreateGitSourceInput, toGitSourceResponse, UpdateGitSourceInput } from './dto/git-source.dto';
import { GitSourceEntity } from './entities/git-source.entity';
import { GitSourceRepository } from './git-source.repository';
import { GitWorkspace } from './git/git-workspace';
import { GitopsErrorCode, GitopsException } from './gitops.errors';
import { GitopsEvent, GitopsEvents, GitopsSourceChange } from './gitops.events';
import { SweepScheduler } from './sweep-scheduler';

export const WEBHOOK_TOKEN_PREFIX = 'amp-wh.';

function isUniqueViolation(error: unknown): boolean {
  const e = error as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
  const d = e.driverError ?? e;
  return d.code === '23505' && d.constraint === 'ux_gitops_sources_tenant_name';
}

/** What asking to create or edit a source did: did it, or (a tenant approval rule applies) opened an approval request. */
export interface SourceEditOutcome {
  source: GitSourceEntity;
  approvalId?: string;
}

/**
 * GitOps sources (Admin): definition, pause/resume, webhook token (shown once, stored hashed). The
 * credential is sealed with the master key before it is stored and never leaves the service again.
 * Every Active source has a job scheduler; changes reach the queue after their transaction commits.
 */
@Injectable()
export class SourcesService implements OnModuleInit {
  private readonly log = createLogger('Ampora.Gitops.SourcesService');

  constructor(
    private readonly sources: GitSourceRepository,
    private readonly workspace: GitWorkspace,
    private readonly scheduler: SweepScheduler,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly edits: GitSourceEditRepository,
    private readonly approvalRules: ApprovalRuleService,
  ) {}

  onModuleInit(): void {
    // a creation or edit that waited for a second person is made when it is approved, inside the decision's transaction
    this.approvalRules.registerOperation(ApprovalOperation.GitopsSourceEdit, {
      onApproved: (tx, request, sourceId) => this.editApproved(tx, request, sourceId),
      onRejected: (tx, request, sourceId) => this.editRejected(tx, request, sourceId),
    });
  }

  /**
   * Registers a source, unless a tenant approval rule applies to this creation (decision 0403): then
   * nothing is created, the definition (its credential sealed) waits in `gitops_source_edits` and an
   * approval request opens; the source is created, with the id answered now, when another person approves.
   */
  async create(caller: Principal, body: CreateGitSourceInput): Promise<SourceEditOutcome> {
    const input = { ...body, autoPublish: body.autoPublish ?? false, groupAssignments: body.groupAssignments ?? [] };
    validate(input);
    let approvalId: string | undefined;
    const source = await this.unique(input.name, () =>
      this.tx.run(async (tx) => {
        const { manager, afterCommit } = tx;
        const id = randomUUID();
        const fields = definitionFields(input);
        const proposed = this.sources.build({ id, tenantId: caller.tenantId, ...fields, credentialSealed: null, status: 'Active', lastSyncedSha: null, lastSyncedAt: null, webhookTokenHash: null, createdBy: caller.actor, createdAt: this.clock.now(), updatedAt: this.clock.now() });
        const context = { tenant: caller.tenantName, actor: caller.actor, source: ruleView(proposed, 'create', Object.keys(body).filter((k) => (body as Record<string, unknown>)[k] !== undefined)) };
        const required = await this.approvalRules.required(caller.tenantId, ApprovalOperation.GitopsSourceEdit, context, manager);
        if (required) {
          if (await this.sources.nameTaken(manager, caller.tenantId, input.name)) throw nameTaken(input.name);
          const credential = input.credential !== undefined && input.credentialKind !== 'None' ? this.workspace.seal(id, input.credential) : null;
          await this.edits.put(manager, { sourceId: id, tenantId: caller.tenantId, kind: 'Create', input: fields, credentialSealed: credential, requestedBy: caller.actor, createdAt: this.clock.now() });
          proposed.credentialSealed = credential;
          const request = await this.approvalRules.requestFor(tx, caller, {
            operation: ApprovalOperation.GitopsSourceEdit,
            entityId: id,
            title: `Create GitOps source ${input.name}`,
            before: null,
            after: { source: context.source },
            required,
          });
          approvalId = request.id;
          return proposed;
        }
        const s = await this.sources.insert(manager, { id, tenantId: caller.tenantId, ...fields, status: 'Active', createdBy: caller.actor });
        if (input.credential !== undefined && input.credentialKind !== 'None') {
          s.credentialSealed = this.workspace.seal(s.id, input.credential);
          await this.sources.save(manager, s);
        }
        await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'Created', after: this.view(s) });
        this.afterChange(afterCommit, s, 'created');
        return s;
      }),
    );
    return approvalId ? { source, approvalId } : { source };
  }

  list(tenantId: string, page: PageQuery): Promise<Page<GitSourceEntity>> {
    return this.sources.list(tenantId, page);
  }

  async get(tenantId: string, id: string, manager?: EntityManager): Promise<GitSourceEntity> {
    const s = await this.sources.findInTenant(tenantId, id, manager);
    if (!s) throw notFound(id);
    return s;
  }

  /**
   * Changes a source, unless a tenant approval rule applies to this edit (decision 0403): then the
   * source stays as it is, the edit (its credential sealed) waits in `gitops_source_edits` and an
   * approval request opens (edited again while pending: replaced, the request reset); the edit is
   * made when another person approves it.
   */
  async update(caller: Principal, id: string, input: UpdateGitSourceInput): Promise<SourceEditOutcome> {
    let approvalId: string | undefined;
    const source = await this.unique(input.name ?? '', () =>
      this.tx.run(async (tx) => {
        const s = await this.locked(tx.manager, caller.tenantId, id);
        const next = this.checkedEdit(s, input, input.credential !== undefined);
        const context = { tenant: caller.tenantName, actor: caller.actor, source: ruleView(this.sources.build({ ...s, ...next }), 'update', Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined)) };
        const required = await this.approvalRules.required(caller.tenantId, ApprovalOperation.GitopsSourceEdit, context, tx.manager);
        if (!required) return this.applyEdit(tx, s, input, input.credential !== undefined ? this.workspace.seal(s.id, input.credential) : null);
        if (input.name !== undefined && input.name !== s.name && (await this.sources.nameTaken(tx.manager, caller.tenantId, input.name, s.id))) throw nameTaken(input.name);
        const { credential, ...rest } = input;
        await this.edits.put(tx.manager, { sourceId: s.id, tenantId: caller.tenantId, kind: 'Update', input: definedOnly(rest), credentialSealed: credential !== undefined ? this.workspace.seal(s.id, credential) : null, requestedBy: caller.actor, createdAt: this.clock.now() });
        const request = await this.approvalRules.requestFor(tx, caller, {
          operation: ApprovalOperation.GitopsSourceEdit,
          entityId: s.id,
          title: `Edit GitOps source ${s.name}`,
          before: { source: ruleView(s, 'update', []) },
          after: { source: context.source },
          required,
        });
        approvalId = request.id;
        return s;
      }),
    );
    return approvalId ? { source, approvalId } : { source };
  }

  /** An approved creation or edit (decision 0403), inside the decision's transaction; the pending edit is consumed. */
  private async editApproved(tx: Tx, request: ApprovalRequestRow, sourceId: string): Promise<void> {
    const edit = await this.edits.lock(tx.manager, request.tenantId, sourceId);
    if (!edit) throw new GitopsException(GitopsErrorCode.GIT_SOURCE_NOT_FOUND, `The GitOps source edit of approval ${request.id} was not found`);
    const additional = { approvalId: request.id };
    if (edit.kind === 'Create') {
      const fields = edit.input as ReturnType<typeof definitionFields>;
      validate({ ...fields, credential: edit.credentialSealed ? 'kept' : undefined });
      if (await this.sources.nameTaken(tx.manager, request.tenantId, fields.name)) throw nameTaken(fields.name);
      const s = await this.sources.insert(tx.manager, { id: sourceId, tenantId: request.tenantId, ...fields, credentialSealed: edit.credentialSealed, status: 'Active', createdBy: edit.requestedBy });
      await this.edits.remove(tx.manager, sourceId);
      await this.audit.record(tx.manager, { entityType: 'GitSource', entityId: s.id, action: 'Created', after: this.view(s), additional });
      this.afterChange(tx.afterCommit, s, 'created');
      return;
    }
    const s = await this.locked(tx.manager, request.tenantId, sourceId);
    const input = edit.input as UpdateGitSourceInput;
    this.checkedEdit(s, input, edit.credentialSealed !== null);
    if (input.name !== undefined && input.name !== s.name && (await this.sources.nameTaken(tx.manager, request.tenantId, input.name, s.id))) throw nameTaken(input.name);
    await this.edits.remove(tx.manager, sourceId);
    await this.applyEdit(tx, s, input, edit.credentialSealed, additional);
  }

  /** A rejected creation or edit: its pending definition and credential are dropped. */
  private async editRejected(tx: Tx, request: ApprovalRequestRow, sourceId: string): Promise<void> {
    await this.edits.remove(tx.manager, sourceId, request.tenantId);
  }

  /** The source as the edit would leave it, refused when that is not a valid source. */
  private checkedEdit(s: GitSourceEntity, input: UpdateGitSourceInput, newCredential: boolean) {
    const { credential: _credential, ...rest } = input;
    const next = { ...s, ...definedOnly(rest) };
    validate({ ...next, credential: newCredential ? 'new' : s.credentialSealed && next.credentialKind === s.credentialKind ? 'kept' : undefined });
    return next;
  }

  private async applyEdit(tx: Tx, s: GitSourceEntity, input: UpdateGitSourceInput, credentialSealed: Buffer | null, additional?: Record<string, unknown>): Promise<GitSourceEntity> {
    const { manager, afterCommit } = tx;
    const before = this.view(s);
    const { credential: _credential, ...rest } = input;
    const next = { ...s, ...definedOnly(rest) };
    const moved = next.repositoryUrl !== s.repositoryUrl || next.branch !== s.branch || next.pathGlob !== s.pathGlob;
    Object.assign(s, { name: next.name, repositoryUrl: next.repositoryUrl, branch: next.branch, pathGlob: next.pathGlob, credentialKind: next.credentialKind, pollIntervalSeconds: next.pollIntervalSeconds, autoPublish: next.autoPublish, groupAssignments: next.groupAssignments, updatedAt: this.clock.now() });
    if (s.credentialKind === 'None') s.credentialSealed = null;
    else if (credentialSealed !== null) s.credentialSealed = credentialSealed;
    // a new repository, branch or glob is swept in full at the next sweep
    if (moved) s.lastSyncedSha = null;
    const saved = await this.sources.save(manager, s);
    await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'Updated', before, after: this.view(saved), ...(additional ? { additional } : {}) });
    this.afterChange(afterCommit, saved, 'updated');
    if (moved) afterCommit(() => this.workspace.removeCache(s.id));
    return saved;
  }

  async delete(caller: Principal, id: string): Promise<void> {
    await this.tx.run(async ({ manager, afterCommit }) => {
      const s = await this.locked(manager, caller.tenantId, id);
      await this.sources.delete(manager, s.id);
      await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'Deleted', before: this.view(s) });
      afterCommit(async () => {
        await this.scheduler.unschedule(s.id);
        await this.workspace.removeCache(s.id);
        this.bus.publish<GitopsEvent>({ type: GitopsEvents.SourceDeleted, tenantId: s.tenantId, entityId: s.id, payload: { sourceId: s.id, name: s.name } });
      });
    });
  }

  pause(caller: Principal, id: string): Promise<GitSourceEntity> {
    return this.setStatus(caller, id, 'Paused');
  }

  resume(caller: Principal, id: string): Promise<GitSourceEntity> {
    return this.setStatus(caller, id, 'Active');
  }

  /** Sweep now (POST …/sync): refused while the source is paused. */
  async requestSync(caller: Principal, id: string): Promise<string | undefined> {
    const s = await this.get(caller.tenantId, id);
    if (s.status === 'Paused') throw new GitopsException(GitopsErrorCode.GIT_SOURCE_PAUSED, `Source ${s.name} is paused; resume it to sweep`);
    const jobId = await this.scheduler.requestSweep(s.tenantId, s.id, 'manual');
    // an operator's request is audited like any change (decision 0361): after the enqueue, so the
    // event names the sweep it asked for (or joined); the sweep's imports are audited by the worker
    await this.audit.record(undefined, { entityType: 'GitSource', entityId: s.id, action: 'SyncRequested', additional: { jobId: jobId ?? null, trigger: 'manual' } });
    return jobId;
  }

  /** Generates (or replaces) the webhook token; the plaintext is answered once and stored hashed. */
  async generateWebhookToken(caller: Principal, id: string): Promise<{ source: GitSourceEntity; token: string }> {
    const token = `${WEBHOOK_TOKEN_PREFIX}${base32Encode(randomBytes(32))}`;
    const source = await this.tx.run(async ({ manager, afterCommit }) => {
      const s = await this.locked(manager, caller.tenantId, id);
      const replaced = s.webhookTokenHash !== null;
      s.webhookTokenHash = hashToken(token);
      s.updatedAt = this.clock.now();
      const saved = await this.sources.save(manager, s);
      await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'WebhookTokenGenerated', additional: { replaced } });
      afterCommit(() => this.publishChange(saved, 'webhook_token'));
      return saved;
    });
    return { source, token };
  }

  async revokeWebhookToken(caller: Principal, id: string): Promise<void> {
    await this.tx.run(async ({ manager, afterCommit }) => {
      const s = await this.locked(manager, caller.tenantId, id);
      s.webhookTokenHash = null;
      s.updatedAt = this.clock.now();
      const saved = await this.sources.save(manager, s);
      await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'WebhookTokenRevoked' });
      afterCommit(() => this.publishChange(saved, 'webhook_token'));
    });
  }

  /**
   * The webhook: the token compared in constant time with the stored hash; an unknown source, a
   * source without a token and a wrong token are all the same 401. A paused source accepts and skips.
   */
  async webhook(sourceId: string, token: string | undefined): Promise<{ tenantId: string; accepted: boolean }> {
    const s = await this.sources.findById(sourceId);
    const expected = Buffer.from(s?.webhookTokenHash ?? '0'.repeat(64), 'hex');
    const given = Buffer.from(hashToken(token ?? ''), 'hex');
    const match = timingSafeEqual(expected, given) && s !== null && s.webhookTokenHash !== null && token !== undefined;
    if (!match) {
      Metrics.add('ampora_gitops_webhook_rejected_total', 1, { tenant: TenantLabels.of(s?.tenantId), reason: token ? 'wrong_token' : 'missing_token' });
      this.log.warn('GitOps webhook for {SourceId} refused: {Reason}', { SourceId: sourceId, Reason: token ? 'wrong token' : 'no token' });
      throw new GitopsException(GitopsErrorCode.GIT_WEBHOOK_UNAUTHORIZED, 'The X-Ampora-Webhook-Token header is missing or wrong');
    }
    if (s.status === 'Paused') return { tenantId: s.tenantId, accepted: false };
    await this.scheduler.requestSweep(s.tenantId, s.id, 'webhook');
    return { tenantId: s.tenantId, accepted: true };
  }

  private async setStatus(caller: Principal, id: string, status: 'Active' | 'Paused'): Promise<GitSourceEntity> {
    return this.tx.run(async ({ manager, afterCommit }) => {
      const s = await this.locked(manager, caller.tenantId, id);
      if (s.status === status) {
        throw new GitopsException(status === 'Active' ? GitopsErrorCode.GIT_SOURCE_ALREADY_ACTIVE : GitopsErrorCode.GIT_SOURCE_ALREADY_PAUSED, `Source ${s.name} is already ${status}`);
      }
      const before = this.view(s);
      s.status = status;
      s.updatedAt = this.clock.now();
      const saved = await this.sources.save(manager, s);
      await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: status === 'Active' ? 'Resumed' : 'Paused', before, after: this.view(saved) });
      this.afterChange(afterCommit, saved, status === 'Active' ? 'resumed' : 'paused');
      return saved;
    });
  }

  private afterChange(afterCommit: (fn: () => unknown) => void, s: GitSourceEntity, change: GitopsSourceChange): void {
    afterCommit(async () => {
      if (s.status === 'Active') {
        await this.scheduler.schedule(s);
        // a new, resumed or changed source is swept now rather than one poll interval later
        if (change !== 'webhook_token') await this.scheduler.requestSweep(s.tenantId, s.id, 'schedule');
      } else await this.scheduler.unschedule(s.id);
      this.publishChange(s, change);
      this.log.info('GitOps source {SourceId} ({Name}) {Change}', { SourceId: s.id, Name: s.name, Change: change });
    });
  }

  private publishChange(s: GitSourceEntity, change: GitopsSourceChange): void {
    this.bus.publish<GitopsEvent>({ type: GitopsEvents.SourceChanged, tenantId: s.tenantId, entityId: s.id, payload: { sourceId: s.id, name: s.name, change, status: s.status } });
  }

  private async locked(manager: EntityManager, tenantId: string, id: string): Promise<GitSourceEntity> {
    const s = await this.sources.lock(manager, tenantId, id);
    if (!s) throw notFound(id);
    return s;
  }

  private async unique<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(name);
      throw error;
    }
  }

  /** The source as the audit log and the API see it (never the credential). */
  private view(s: GitSourceEntity) {
    return toGitSourceResponse(s, this.config.app.publicUrl);
  }
}

function nameTaken(name: string): GitopsException {
  return new GitopsException(GitopsErrorCode.GIT_SOURCE_NAME_TAKEN, `A GitOps source named ${JSON.stringify(name)} already exists`);
}

/** A new source's stored definition (everything but the credential). */
function definitionFields(input: Omit<CreateGitSourceInput, 'autoPublish' | 'groupAssignments'> & { autoPublish: boolean; groupAssignments: GroupAssignment[] }) {
  return {
    name: input.name,
    repositoryUrl: input.repositoryUrl,
    branch: input.branch,
    pathGlob: input.pathGlob,
    credentialKind: input.credentialKind,
    pollIntervalSeconds: input.pollIntervalSeconds,
    autoPublish: input.autoPublish,
    groupAssignments: input.groupAssignments,
  };
}

/** What an approval rule reads about a source after the edit, and the request shows: never the credential, only whether one is (or is being) set. */
function ruleView(s: GitSourceEntity, change: 'create' | 'update', fields: string[]) {
  return {
    id: s.id,
    name: s.name,
    repositoryUrl: s.repositoryUrl,
    branch: s.branch,
    pathGlob: s.pathGlob,
    credentialKind: s.credentialKind,
    pollIntervalSeconds: s.pollIntervalSeconds,
    autoPublish: s.autoPublish,
    groupAssignments: s.groupAssignments.length,
    change,
    fields: [...fields].sort(),
  };
}

function notFound(id: string): GitopsException {
  return new GitopsException(GitopsErrorCode.GIT_SOURCE_NOT_FOUND, `GitOps source ${id} was not found`);
}

function definedOnly<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validate(input: { repositoryUrl: string; branch: string; pathGlob: string; credentialKind: 'None' | 'Pat' | 'SshKey'; credential?: string; autoPublish: boolean; groupAssignments: unknown[] }): void {
  const problems: string[] = [];
  if (input.groupAssignments.length > 0 && !input.autoPublish) problems.push('groupAssignments roll out published versions: they need autoPublish: true');
  const url = repositoryTransport(input.repositoryUrl);
  if (!url.ok) problems.push(url.reason);
  else if (!credentialFits(url.transport, input.credentialKind)) problems.push(`a ${url.transport} repository does not take a ${input.credentialKind} credential`);
  if (input.credentialKind !== 'None' && input.credential === undefined) problems.push(`credentialKind ${input.credentialKind} needs a credential`);
  if (input.credentialKind === 'None' && input.credential !== undefined && input.credential !== 'kept') problems.push('credentialKind None takes no credential');
  if (!isValidBranch(input.branch)) problems.push(`${JSON.stringify(input.branch)} is not a branch name git accepts`);
  try {
    compileGlob(input.pathGlob);
  } catch (error) {
    if (!(error instanceof InvalidGlobError)) throw error;
    problems.push(error.message);
  }
  if (problems.length) throw new GitopsException(GitopsErrorCode.GIT_SOURCE_INVALID, problems.join('; '), { problems });
}
