import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, DomainException, LiveBus, Metrics, Principal, RequestContext, TenantLabels, withSpan } from '@ampora/platform';
import { Role } from '@ampora/governance';
import { ConfigurationsService } from '@ampora/fleet';
import { AutoPublisher } from './auto-publish.service';
import { compileGlob } from './domain/path-glob';
import { FileError, planImports, PlannedImport, selectFiles } from './domain/sweep-plan';
import { GitSourceEntity } from './entities/git-source.entity';
import { GitSyncRunEntity, SyncTrigger } from './entities/git-sync-run.entity';
import { GitFileRepository } from './git-file.repository';
import { GitSourceRepository } from './git-source.repository';
import { GitSyncRunRepository } from './git-sync-run.repository';
import { GitCommandError } from './git/git-cli';
import { GitWorkspace } from './git/git-workspace';
import { GitopsEvent, GitopsEvents } from './gitops.events';
import { SweepLock } from './sweep-lock';

export type SweepOutcome = 'success' | 'partial' | 'failed' | 'noop' | 'skipped';

export interface SweepResult {
  outcome: SweepOutcome;
  tipSha: string | null;
  run: GitSyncRunEntity | null;
}

/** What the git half of a sweep found: the tip, and (when it moved) the files to import. */
interface Fetched {
  tip: string;
  author?: string;
  seen?: number;
  read?: Array<{ path: string; blobSha: string; size: number; bytes: Uint8Array }>;
  unchanged?: number;
  unchangedNames?: Array<{ path: string; blobSha: string; configurationName: string; status: 'tracked' }>;
  orphaned?: string[];
  errors?: FileError[];
}

/**
 * One sweep of one source (§6.4): fetch the branch into the bare cache; an unchanged tip ends the
 * sweep without a write; otherwise every matched file whose blob is new is named, imported through
 * fleet's version path (a Draft only when the text changed), files gone from the tip are orphaned,
 * and the tip and a sync run are recorded. Per-file problems are recorded, never fatal.
 */
@Injectable()
export class SweepService {
  private readonly log = createLogger('Ampora.Gitops.SweepService');

  constructor(
    private readonly sources: GitSourceRepository,
    private readonly runs: GitSyncRunRepository,
    private readonly files: GitFileRepository,
    private readonly workspace: GitWorkspace,
    private readonly configurations: ConfigurationsService,
    private readonly lock: SweepLock,
    private readonly autoPublisher: AutoPublisher,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  sweep(sourceId: string, trigger: SyncTrigger): Promise<SweepResult> {
    return this.lock.whileHeld(sourceId, () => this.sweepLocked(sourceId, trigger));
  }

  private async sweepLocked(sourceId: string, trigger: SyncTrigger): Promise<SweepResult> {
    const source = await this.sources.findById(sourceId);
    if (!source || source.status !== 'Active') return { outcome: 'skipped', tipSha: null, run: null };
    const labels = { tenant: TenantLabels.of(source.tenantId), source: source.name };
    const startedAt = this.clock.now();
    return withSpan('gitops.sync', { attributes: { 'source.id': source.id } }, async (span) => {
      let result: SweepResult;
      try {
        const fetched = await this.fetch(source);
        span.setAttribute('tip.sha', fetched.tip);
        result = fetched.read ? await this.importFiles(source, trigger, startedAt, fetched) : { outcome: 'noop', tipSha: fetched.tip, run: null };
      } catch (error) {
        result = await this.recordFailure(source, trigger, startedAt, error);
        if (!(error instanceof GitCommandError)) throw error;
      } finally {
        Metrics.record('ampora_gitops_sync_duration_seconds', (this.clock.nowMs() - startedAt.getTime()) / 1000, labels);
      }
      Metrics.add('ampora_gitops_sync_runs_total', 1, { ...labels, outcome: result.outcome });
      return result;
    });
  }

  /** The git half: fetch, compare the tip, list the tree, read the new blobs. */
  private fetch(source: GitSourceEntity): Promise<Fetched> {
    const mirror = this.workspace.mirror(source.id);
    return this.workspace.withAccess(source, async (access) => {
      await mirror.ensure(access);
      const tip = await mirror.fetch(source.repositoryUrl, source.branch, access);
      if (tip === source.lastSyncedSha) return { tip };
      const [commit, entries, tracked] = await Promise.all([mirror.commit(tip, access), mirror.tree(tip, access), this.files.ofSource(source.id)]);
      const selection = selectFiles(entries, compileGlob(source.pathGlob), tracked, this.config.limits.configMaxBytes);
      const blobs = await mirror.blobs(selection.toRead.map((e) => e.blobSha), access);
      return {
        tip,
        author: commit.author,
        seen: selection.seen,
        read: selection.toRead.map((e) => ({ ...e, bytes: blobs.get(e.blobSha) ?? new Uint8Array() })),
        unchanged: selection.unchanged.length,
        unchangedNames: selection.unchanged.map((u) => ({ ...u, status: 'tracked' as const })),
        orphaned: selection.orphaned.map((o) => o.path),
        errors: selection.errors,
      };
    });
  }

  private async importFiles(source: GitSourceEntity, trigger: SyncTrigger, startedAt: Date, fetched: Fetched): Promise<SweepResult> {
    const plan = planImports(fetched.read!, fetched.unchangedNames!);
    const errors = [...fetched.errors!, ...plan.errors];
    const elsewhere = await this.files.namesHeldElsewhere(source.tenantId, source.id, plan.imports.map((i) => i.name));
    const principal: Principal = { kind: 'system', tenantId: source.tenantId, tenantName: '', role: Role.Admin, actor: `gitops:${source.name}` };
    let imported = 0;
    let unchanged = fetched.unchanged!;
    for (const file of plan.imports) {
      if (elsewhere.has(file.name)) {
        errors.push({ path: file.path, error: `the name ${JSON.stringify(file.name)} is that of a file another GitOps source tracks` });
        continue;
      }
      const outcome = await this.importOne(source, principal, file, fetched);
      if (outcome.error) errors.push({ path: file.path, error: outcome.error });
      if (outcome.imported) imported++;
      else if (!outcome.error) unchanged++;
    }
    await this.files.markOrphaned(source.id, fetched.orphaned!, this.clock.now());
    const finishedAt = this.clock.now();
    const outcome = errors.length > 0 ? 'partial' : 'success';
    const run = await this.runs.insert({
      tenantId: source.tenantId,
      sourceId: source.id,
      trigger,
      outcome,
      startedAt,
      finishedAt,
      tipSha: fetched.tip,
      filesSeen: fetched.seen!,
      filesImported: imported,
      filesUnchanged: unchanged,
      filesOrphaned: fetched.orphaned!.length,
      errors,
      failure: null,
    });
    await this.sources.markSynced(source.id, fetched.tip, finishedAt);
    if (imported > 0) Metrics.add('ampora_gitops_files_imported_total', imported, { tenant: TenantLabels.of(source.tenantId), source: source.name });
    this.log.info('GitOps source {SourceId} synced at {TipSha}: {Imported} imported, {Unchanged} unchanged, {Orphaned} orphaned, {Errors} errors', {
      SourceId: source.id,
      TipSha: fetched.tip,
      Imported: imported,
      Unchanged: unchanged,
      Orphaned: fetched.orphaned!.length,
      Errors: errors.length,
    });
    this.publish(source, run);
    return { outcome, tipSha: fetched.tip, run };
  }

  /** Imports one file; a refusal of the file (a name taken, a limit) is its error, anything else fails the sweep. */
  private async importOne(source: GitSourceEntity, principal: Principal, file: PlannedImport, fetched: Fetched): Promise<{ imported: boolean; error?: string }> {
    try {
      const result = await RequestContext.run({ principal, tenantId: source.tenantId }, () =>
        this.configurations.importFromGit(principal, { name: file.name, yaml: file.text, sourceRef: `git:${fetched.tip}`, author: fetched.author ?? '' }),
      );
      await this.files.upsert({ sourceId: source.id, path: file.path, tenantId: source.tenantId, blobSha: file.blobSha, configurationId: result.configurationId, configurationName: file.name, commitSha: fetched.tip, status: 'tracked', updatedAt: this.clock.now() });
      const v = result.version;
      if (v && v.errorCount > 0) {
        const first = v.findings.find((f) => f.severity === 'Error');
        return { imported: true, error: `imported as Draft version ${v.number} with ${v.errorCount} error finding(s)${first ? `: ${first.message}` : ''}` };
      }
      if (v && source.autoPublish) return { imported: true, error: await this.autoPublisher.publish(source, principal, file, result.configurationId, v.number) };
      return { imported: v !== null };
    } catch (error) {
      if (!(error instanceof DomainException) || error.status >= 500) throw error;
      const message = error.code === 'CONFIGURATION_NAME_TAKEN' ? `the name ${JSON.stringify(file.name)} belongs to a configuration created through the API` : error.message;
      return { imported: false, error: message };
    }
  }

  private async recordFailure(source: GitSourceEntity, trigger: SyncTrigger, startedAt: Date, error: unknown): Promise<SweepResult> {
    const failure = error instanceof GitCommandError ? error.message : `the sweep stopped: ${error instanceof Error ? error.message : String(error)}`;
    this.log.warn('GitOps source {SourceId} sweep failed: {Failure}', { SourceId: source.id, Failure: failure });
    const run = await this.runs.insert({
      tenantId: source.tenantId,
      sourceId: source.id,
      trigger,
      outcome: 'failed',
      startedAt,
      finishedAt: this.clock.now(),
      tipSha: null,
      filesSeen: 0,
      filesImported: 0,
      filesUnchanged: 0,
      filesOrphaned: 0,
      errors: [],
      failure: failure.slice(0, 2000),
    });
    this.publish(source, run);
    return { outcome: 'failed', tipSha: null, run };
  }

  private publish(source: GitSourceEntity, run: GitSyncRunEntity): void {
    this.bus.publish<GitopsEvent>({
      type: GitopsEvents.SyncCompleted,
      tenantId: source.tenantId,
      entityId: source.id,
      payload: {
        sourceId: source.id,
        runId: run.id,
        trigger: run.trigger,
        outcome: run.outcome,
        tipSha: run.tipSha,
        imported: run.filesImported,
        unchanged: run.filesUnchanged,
        orphaned: run.filesOrphaned,
        errors: run.errors.length,
      },
    });
  }
}
