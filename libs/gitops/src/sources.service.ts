import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, base32Encode, Clock, createLogger, hashToken, LiveBus, Metrics, Page, PageQuery, Principal, TenantLabels, TransactionRunner } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
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

/**
 * GitOps sources (Admin): definition, pause/resume, webhook token (shown once, stored hashed). The
 * credential is sealed with the master key before it is stored and never leaves the service again.
 * Every Active source has a job scheduler; changes reach the queue after their transaction commits.
 */
@Injectable()
export class SourcesService {
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
  ) {}

  async create(caller: Principal, body: CreateGitSourceInput): Promise<GitSourceEntity> {
    const input = { ...body, autoPublish: body.autoPublish ?? false, groupAssignments: body.groupAssignments ?? [] };
    validate(input);
    return this.unique(input.name, () =>
      this.tx.run(async ({ manager, afterCommit }) => {
        const s = await this.sources.insert(manager, {
          tenantId: caller.tenantId,
          name: input.name,
          repositoryUrl: input.repositoryUrl,
          branch: input.branch,
          pathGlob: input.pathGlob,
          credentialKind: input.credentialKind,
          pollIntervalSeconds: input.pollIntervalSeconds,
          autoPublish: input.autoPublish,
          groupAssignments: input.groupAssignments,
          status: 'Active',
          createdBy: caller.actor,
        });
        if (input.credential !== undefined && input.credentialKind !== 'None') {
          s.credentialSealed = this.workspace.seal(s.id, input.credential);
          await this.sources.save(manager, s);
        }
        await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'Created', after: this.view(s) });
        this.afterChange(afterCommit, s, 'created');
        return s;
      }),
    );
  }

  list(tenantId: string, page: PageQuery): Promise<Page<GitSourceEntity>> {
    return this.sources.list(tenantId, page);
  }

  async get(tenantId: string, id: string, manager?: EntityManager): Promise<GitSourceEntity> {
    const s = await this.sources.findInTenant(tenantId, id, manager);
    if (!s) throw notFound(id);
    return s;
  }

  async update(caller: Principal, id: string, input: UpdateGitSourceInput): Promise<GitSourceEntity> {
    return this.unique(input.name ?? '', () =>
      this.tx.run(async ({ manager, afterCommit }) => {
        const s = await this.locked(manager, caller.tenantId, id);
        const before = this.view(s);
        const next = { ...s, ...definedOnly(input) };
        validate({ ...next, credential: input.credential ?? (s.credentialSealed && next.credentialKind === s.credentialKind ? 'kept' : undefined) });
        const moved = next.repositoryUrl !== s.repositoryUrl || next.branch !== s.branch || next.pathGlob !== s.pathGlob;
        Object.assign(s, { name: next.name, repositoryUrl: next.repositoryUrl, branch: next.branch, pathGlob: next.pathGlob, credentialKind: next.credentialKind, pollIntervalSeconds: next.pollIntervalSeconds, autoPublish: next.autoPublish, groupAssignments: next.groupAssignments, updatedAt: this.clock.now() });
        if (s.credentialKind === 'None') s.credentialSealed = null;
        else if (input.credential !== undefined) s.credentialSealed = this.workspace.seal(s.id, input.credential);
        // a new repository, branch or glob is swept in full at the next sweep
        if (moved) s.lastSyncedSha = null;
        const saved = await this.sources.save(manager, s);
        await this.audit.record(manager, { entityType: 'GitSource', entityId: s.id, action: 'Updated', before, after: this.view(saved) });
        this.afterChange(afterCommit, saved, 'updated');
        if (moved) afterCommit(() => this.workspace.removeCache(s.id));
        return saved;
      }),
    );
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
    return this.scheduler.requestSweep(s.tenantId, s.id, 'manual');
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
      if (isUniqueViolation(error)) throw new GitopsException(GitopsErrorCode.GIT_SOURCE_NAME_TAKEN, `A GitOps source named ${JSON.stringify(name)} already exists`);
      throw error;
    }
  }

  /** The source as the audit log and the API see it (never the credential). */
  private view(s: GitSourceEntity) {
    return toGitSourceResponse(s, this.config.app.publicUrl);
  }
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
