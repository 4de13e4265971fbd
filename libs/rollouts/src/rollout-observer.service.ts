import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, Metrics, RequestContext, TenantLabels } from '@ampora/platform';
import { RolloutSupportService, RolloutVersion } from '@ampora/fleet';
import { RolloutState } from './domain/rollout-state';
import { obsoleteReason } from './domain/target-membership';
import { AgentObservation, observeTarget } from './domain/target-observation';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { NOT_CONNECTED_REASON, RolloutTargetRepository } from './persistence/rollout-target.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { SkippedTarget, TargetChange } from './persistence/target-rows';
import { RolloutDelivery } from './rollout-delivery.service';
import { RolloutGateCheck } from './rollout-gates.service';
import { RolloutProgressPublisher } from './rollout-progress.publisher';
import { RolloutTransitions } from './rollout-transitions';

/** Agents' answers announce a rollout's progress at most this often (steps and settlement always do). */
const PROGRESS_EVERY_MS = 1000;

/**
 * Applies what agents say and do to the targets of running steps (domain/target-observation decides
 * each target's change): live events as they come (`observe`), and the inventory on every tick
 * (`reconcile`, the backstop for events a stopped worker missed).
 */
@Injectable()
export class RolloutObserver {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');
  /** When agents' answers last announced each rollout's progress. */
  private readonly progressAt = new Map<string, number>();

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly targets: RolloutTargetRepository,
    private readonly queries: RolloutTargetQueries,
    private readonly fleet: RolloutSupportService,
    private readonly delivery: RolloutDelivery,
    private readonly gates: RolloutGateCheck,
    private readonly progress: RolloutProgressPublisher,
    private readonly transitions: RolloutTransitions,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /**
   * Catches up with agents' recorded state (events missed while no worker ran): targets whose agent
   * left the rollout are Skipped, the others judged from the inventory; slow targets expire.
   */
  async reconcile(r: RolloutEntity, version: RolloutVersion, step: number, startedAt: Date): Promise<void> {
    const expected = { configHash: version.configHash, contentHash: version.contentHash, freshOnly: r.kind === 'Rollback' };
    const all = await this.queries.stepTargets(r.id, step);
    const states = await this.fleet.agentStates(all.map((t) => t.agentId));
    const obsolete: SkippedTarget[] = [];
    const rows = all.filter((t) => {
      const a = states.get(t.agentId);
      // a target whose agent is gone goes with it (its row is deleted with the agent)
      if (!a) return false;
      const reason = t.state === 'Pending' || t.state === 'Applying' ? obsoleteReason(a, { groupId: r.groupId, configHash: expected.configHash }, t.assigned) : undefined;
      if (reason) obsolete.push({ agentId: t.agentId, reason });
      return !reason;
    });
    await this.targets.skip(r.id, obsolete);
    const drift = await this.fleet.driftOf(rows.filter((t) => t.assigned).map((t) => states.get(t.agentId)!));
    const now = this.clock.now();
    const changes: TargetChange[] = [];
    for (const t of rows) {
      const a = states.get(t.agentId)!;
      const o: AgentObservation = {
        remoteConfig: a.remoteConfigStatus && a.remoteConfigHash ? { status: a.remoteConfigStatus, hash: a.remoteConfigHash, errorMessage: a.remoteConfigError ?? undefined, at: a.remoteConfigAt ?? undefined } : undefined,
        inDrift: drift.get(t.agentId),
        healthy: a.healthy,
        effectiveHash: a.effectiveConfigHash,
        disconnectedAt: !a.connected && a.disconnectedAt ? a.disconnectedAt : undefined,
      };
      const after = observeTarget(t, o, expected, now);
      if (after) changes.push({ rolloutId: t.rolloutId, agentId: t.agentId, tenantId: t.tenantId, before: t.state, after });
    }
    if (changes.length) this.count(await this.targets.writeChanges(changes));
    // An agent that had no session when pushed but is connected now, without having answered: it may
    // have attached just before its assignment (and read the old one), while its lease was not yet
    // taken, so the push found nobody. Push again, once per tick, until it answers or times out.
    const answered = new Set(changes.map((c) => c.agentId));
    const again = rows.filter((t) => t.state === 'Pending' && !t.pushedAt && t.reason === NOT_CONNECTED_REASON && states.get(t.agentId)!.connected && !answered.has(t.agentId)).map((t) => t.agentId);
    for (let i = 0; i < again.length; i += this.config.rollouts.pushConcurrency) {
      await this.delivery.deliver(r, version.desired, again.slice(i, i + this.config.rollouts.pushConcurrency));
    }
    const expired = await this.targets.expire(r.id, step, startedAt, r.gates.applyTimeoutSeconds, this.clock.now());
    if (expired.failed) Metrics.add('ampora_rollout_targets_failed_total', expired.failed, { tenant: TenantLabels.of(r.tenantId), rollout_id: r.id });
  }

  /**
   * Applies agents' observations to the running steps that hold them, counts targets that reached
   * Applied or Failed, re-evaluates the gates of the rollouts concerned, and kicks a tick when a
   * step has nothing open any more.
   */
  async observe(observations: Map<string, AgentObservation>): Promise<number> {
    if (observations.size === 0) return 0;
    const targets = await this.queries.openTargetsOf([...observations.keys()]);
    const versions = await this.fleet.versionHashes(targets.map((t) => t.versionId));
    const judged = targets.filter((t) => t.assigned && (observations.get(t.agentId)!.effectiveHash || observations.get(t.agentId)!.remoteConfig));
    const drift = await this.fleet.driftVerdicts(judged.map((t) => t.agentId));
    const now = this.clock.now();
    const changes: TargetChange[] = [];
    for (const t of targets) {
      const version = versions.get(t.versionId);
      if (!version) continue;
      const o = observations.get(t.agentId)!;
      const after = observeTarget(t, drift.has(t.agentId) ? { ...o, inDrift: drift.get(t.agentId) } : o, { ...version, freshOnly: t.freshOnly }, now);
      if (after) changes.push({ rolloutId: t.rolloutId, agentId: t.agentId, tenantId: t.tenantId, before: t.state, after });
    }
    if (changes.length === 0) return 0;
    const written = await this.targets.writeChanges(changes);
    this.count(written);
    const rollouts = new Map<string, string>();
    for (const c of written) rollouts.set(c.rolloutId, c.tenantId);
    for (const [rolloutId, tenantId] of rollouts) {
      await RequestContext.run({ tenantId }, async () => {
        const r = await this.rollouts.findById(rolloutId);
        if (!r || r.currentStep === null) return;
        if (this.progressDue(rolloutId)) await this.progress.publish(r, r.currentStep);
        if (r.state !== RolloutState.InProgress) return;
        if (await this.gates.check(r, r.currentStep)) return;
        if ((await this.targets.openCount(rolloutId, r.currentStep)) === 0) await this.transitions.kick(tenantId, rolloutId, 'step settled');
      }).catch((error: unknown) => this.log.warn('Evaluating rollout {RolloutId} after agent events failed; the next tick retries', { RolloutId: rolloutId }, error));
    }
    return written.length;
  }

  /** Whether agents' answers may announce this rollout's progress now (and notes that they do). */
  private progressDue(rolloutId: string): boolean {
    const now = this.clock.nowMs();
    if (now - (this.progressAt.get(rolloutId) ?? 0) < PROGRESS_EVERY_MS) return false;
    // rollouts that stopped answering are forgotten
    if (this.progressAt.size >= 1000) for (const [id, at] of this.progressAt) if (now - at >= PROGRESS_EVERY_MS) this.progressAt.delete(id);
    this.progressAt.set(rolloutId, now);
    return true;
  }

  private count(written: TargetChange[]): void {
    for (const c of written) {
      if (c.after.state === c.before) continue;
      const labels = { tenant: TenantLabels.of(c.tenantId), rollout_id: c.rolloutId };
      if (c.after.state === 'Applied') Metrics.add('ampora_rollout_targets_succeeded_total', 1, labels);
      else if (c.after.state === 'Failed') Metrics.add('ampora_rollout_targets_failed_total', 1, labels);
    }
  }
}
