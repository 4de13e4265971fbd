import { Inject, Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Metrics, TenantLabels } from '@ampora/platform';
import { FleetTransactions, PackageRolloutSupport, RolloutPackage } from '@ampora/fleet';
import { expectedOf, packageAnswer, packageObsoleteReason } from './domain/package-observation';
import { RolloutState } from './domain/rollout-state';
import { AgentObservation, observeTarget } from './domain/target-observation';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetRepository } from './persistence/rollout-target.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { SkippedTarget, TargetChange } from './persistence/target-rows';

export const NOT_ACCEPTING_PACKAGES = 'the agent does not accept packages (no AcceptsPackages capability)';

/**
 * The package side of the rollout engine (agent upgrades, decisions 0333 and 0375): assigns a step's
 * agents the package version (through fleet, remembering what each had), offers it to them now
 * (through the dispatcher, on whichever instance holds each session), and judges their targets from
 * the package statuses they report (domain/package-observation → the configuration's target state
 * machine). Steps, gates, pauses and dwells are the engine's, unchanged.
 */
@Injectable()
export class PackageRolloutDelivery {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly targets: RolloutTargetRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly packages: PackageRolloutSupport,
    private readonly tx: FleetTransactions,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** A version of a package of the tenant, for a new rollout (fleet's 404 problems otherwise). */
  packageVersion(tenantId: string, name: string, version: string, manager: EntityManager): Promise<RolloutPackage> {
    return this.packages.packageVersion(tenantId, name, version, manager);
  }

  /** The rollout's package version (it cannot be deleted while a rollout names it). */
  async packageOf(r: RolloutEntity, manager?: EntityManager): Promise<RolloutPackage> {
    const p = await this.packages.packageVersionById(r.packageVersionId!, manager);
    if (!p) throw new Error(`rollout ${r.id}: package version ${r.packageVersionId} is gone`);
    return p;
  }

  /**
   * Assigns and offers a step's agents the version, `pushConcurrency` at a time; each chunk is
   * assigned in a transaction that first checks the rollout still runs this step (a pause stops the
   * rest). Returns false when it stopped early.
   */
  async push(r: RolloutEntity, pkg: RolloutPackage, step: number, agentIds: string[], owner: string): Promise<boolean> {
    const size = this.config.rollouts.pushConcurrency;
    const renewEveryMs = (this.config.rollouts.leaseSeconds * 1000) / 3;
    let renewedAt = this.clock.nowMs();
    for (let i = 0; i < agentIds.length; i += size) {
      const chunk = agentIds.slice(i, i + size);
      const staying = await this.tx.run(async ({ manager }): Promise<string[] | false> => {
        const locked = await this.rollouts.lock(manager, r.id, 'share');
        if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step) return false;
        const states = await this.packages.packageStates(chunk, pkg.name, r.tenantId);
        const gone: SkippedTarget[] = [];
        const keep: string[] = [];
        for (const agentId of chunk) {
          const reason = packageObsoleteReason(states.get(agentId), { groupId: r.groupId, packageVersionId: pkg.id }, false);
          if (reason) gone.push({ agentId, reason });
          else keep.push(agentId);
        }
        await this.targets.skip(r.id, gone, manager);
        const previous = await this.packages.assignPackage(manager, r.tenantId, keep, pkg.id);
        await this.targets.markPackageAssigned(manager, r.id, previous, this.clock.now());
        return keep;
      });
      if (!staying) return false;
      await this.deliver(r, staying);
      if (i + size < agentIds.length && this.clock.nowMs() - renewedAt > renewEveryMs) {
        if (!(await this.rollouts.acquireLease(r.id, owner, this.config.rollouts.leaseSeconds))) return false;
        renewedAt = this.clock.nowMs();
      }
    }
    return true;
  }

  /** Offers the agents their packages now and records each outcome on their targets. */
  private async deliver(r: RolloutEntity, agentIds: string[]): Promise<void> {
    if (agentIds.length === 0) return;
    const outcomes = await this.packages.pushPackages(r.tenantId, agentIds);
    const pushed: string[] = [];
    const waiting: string[] = [];
    const skipped: SkippedTarget[] = [];
    for (const agentId of agentIds) {
      const o = outcomes.get(agentId);
      if (o === 'no_session') waiting.push(agentId);
      else if (o === 'cap_mismatch') skipped.push({ agentId, reason: NOT_ACCEPTING_PACKAGES });
      // delivered, queued, unconfirmed (the owner has it), unchanged (it was offered this already)
      else pushed.push(agentId);
    }
    await this.targets.recordPushes(r.id, pushed, waiting, skipped, this.clock.now());
  }

  /**
   * The tick's judgement of the step's targets from the agents' rows: their package statuses, health
   * and disconnects; targets whose agents left (or were reassigned) are Skipped; slow ones expire.
   * An agent without a session at the push is offered the version on its connection's first frame.
   */
  async reconcile(r: RolloutEntity, pkg: RolloutPackage, step: number, startedAt: Date): Promise<void> {
    const all = await this.queries.stepTargets(r.id, step);
    const states = await this.packages.packageStates(all.map((t) => t.agentId), pkg.name);
    const expected = { versionId: pkg.id, version: pkg.version, offerHash: pkg.offerHash };
    const obsolete: SkippedTarget[] = [];
    const changes: TargetChange[] = [];
    const now = this.clock.now();
    for (const t of all) {
      const a = states.get(t.agentId);
      if (!a) continue;
      const reason = t.state === 'Pending' || t.state === 'Applying' ? packageObsoleteReason(a, { groupId: r.groupId, packageVersionId: pkg.id }, t.assigned) : undefined;
      if (reason) {
        obsolete.push({ agentId: t.agentId, reason });
        continue;
      }
      const o: AgentObservation = {
        remoteConfig: t.assigned ? packageAnswer(a.status, expected) : undefined,
        healthy: a.healthy,
        disconnectedAt: !a.connected && a.disconnectedAt ? a.disconnectedAt : undefined,
      };
      const after = observeTarget(t, o, expectedOf(expected), now);
      if (after) changes.push({ rolloutId: t.rolloutId, agentId: t.agentId, tenantId: t.tenantId, before: t.state, after });
    }
    await this.targets.skip(r.id, obsolete);
    if (changes.length) {
      for (const c of await this.targets.writeChanges(changes)) {
        if (c.after.state === c.before) continue;
        const labels = { tenant: TenantLabels.of(c.tenantId), rollout_id: c.rolloutId };
        if (c.after.state === 'Applied') Metrics.add('ampora_rollout_targets_succeeded_total', 1, labels);
        else if (c.after.state === 'Failed') Metrics.add('ampora_rollout_targets_failed_total', 1, labels);
      }
    }
    const expired = await this.targets.expire(r.id, step, startedAt, r.gates.applyTimeoutSeconds, this.clock.now());
    if (expired.failed) Metrics.add('ampora_rollout_targets_failed_total', expired.failed, { tenant: TenantLabels.of(r.tenantId), rollout_id: r.id });
  }

  /**
   * Abort and rollback of a package rollout (in the caller's transaction): every agent it assigned
   * the version to and that still has it is assigned what it had before (or nothing). Returns the
   * agents to offer their packages after the commit.
   */
  async restore(manager: EntityManager, r: RolloutEntity): Promise<string[]> {
    const touched = await this.targets.touchedPackages(manager, r.id);
    const restored = await this.packages.restorePackages(manager, r.tenantId, r.packageName!, r.packageVersionId!, touched);
    this.log.info('Rollout {RolloutId}: {Agents} agents are assigned their previous version of package {Package} again', { RolloutId: r.id, Agents: restored.length, Package: r.packageName });
    return restored;
  }

  /** Offers the agents their packages now (after the commit of `restore`). */
  async offer(tenantId: string, agentIds: string[]): Promise<void> {
    if (agentIds.length) await this.packages.pushPackagesCounted(tenantId, agentIds);
  }
}
