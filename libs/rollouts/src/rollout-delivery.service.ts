import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger } from '@ampora/platform';
import { AGENT_DISPATCHER, AgentDispatcher, DesiredConfig, DispatchOutcome, pushRemoteConfigToMany } from '@ampora/opamp';
import { FleetTransactions, RolloutSupportService, RolloutVersion } from '@ampora/fleet';
import { RolloutState } from './domain/rollout-state';
import { OBSOLETE, obsoleteReason } from './domain/target-membership';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetRepository } from './persistence/rollout-target.repository';
import { SkippedTarget } from './persistence/target-rows';

export const NOT_ACCEPTING = 'the agent does not accept remote configuration (no AcceptsRemoteConfig capability)';

/**
 * Assigns a step's version to its agents (through fleet) and pushes it to them, recording each
 * outcome on their targets.
 */
@Injectable()
export class RolloutDelivery {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEngine');

  constructor(
    private readonly rollouts: RolloutRepository,
    private readonly targets: RolloutTargetRepository,
    private readonly fleet: RolloutSupportService,
    private readonly tx: FleetTransactions,
    private readonly clock: Clock,
    @Inject(AGENT_DISPATCHER) private readonly dispatcher: AgentDispatcher,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /**
   * Assigns and pushes a step's agents, `pushConcurrency` at a time. Each chunk is assigned in a
   * transaction that first checks the rollout still runs this step, so a pause stops the rest (the
   * next chunk's assignment overlaps the current chunk's pushes: at most that one chunk still goes
   * out after a pause, like a push in flight). Returns false when it stopped early, else how many
   * agents were not sent the version because they already reported it (they send no answer).
   */
  async push(r: RolloutEntity, version: RolloutVersion, step: number, agentIds: string[], owner: string): Promise<false | { alreadyThere: number }> {
    const size = this.config.rollouts.pushConcurrency;
    agentIds = await this.screen(r, version, agentIds);
    const chunks: string[][] = [];
    for (let i = 0; i < agentIds.length; i += size) chunks.push(agentIds.slice(i, i + size));
    const assign = (chunk: string[]) =>
      this.tx.run(async ({ manager }): Promise<string[] | false> => {
        const locked = await this.rollouts.lock(manager, r.id, 'share');
        if (!locked || locked.state !== RolloutState.InProgress || locked.currentStep !== step) return false;
        // an agent that moved to another group since the step was planned is not the rollout's any more
        const staying = await this.fleet.lockInGroup(manager, r.tenantId, r.groupId, chunk);
        const stayingSet = new Set(staying);
        await this.targets.skip(r.id, chunk.filter((id) => !stayingSet.has(id)).map((agentId) => ({ agentId, reason: OBSOLETE.leftGroup })), manager);
        if (staying.length) await this.fleet.assignVersion(manager, r.tenantId, staying, version.id);
        await this.targets.markAssigned(manager, r.id, staying, this.clock.now());
        return staying;
      });
    const renewEveryMs = (this.config.rollouts.leaseSeconds * 1000) / 3;
    let renewedAt = this.clock.nowMs();
    let alreadyThere = 0;
    let next: Promise<string[] | false> | undefined = chunks.length ? assign(chunks[0]!) : undefined;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = await next;
      if (!chunk) return false;
      next = c + 1 < chunks.length ? assign(chunks[c + 1]!) : undefined;
      // a failed assignment of the next chunk surfaces when it is awaited
      next?.catch(() => undefined);
      alreadyThere += await this.deliver(r, version.desired, chunk);
      if (next && this.clock.nowMs() - renewedAt > renewEveryMs) {
        if (!(await this.rollouts.acquireLease(r.id, owner, this.config.rollouts.leaseSeconds))) {
          await next.catch(() => undefined);
          return false;
        }
        renewedAt = this.clock.nowMs();
      }
    }
    return { alreadyThere };
  }

  /**
   * The push-time checks, once for the whole step (decision 0275): an agent a check denied is not
   * assigned nor pushed; its target is Skipped with the policy and the reason. Returns the others.
   */
  private async screen(r: RolloutEntity, version: RolloutVersion, agentIds: string[]): Promise<string[]> {
    const denied = await this.fleet.screenStep(r.tenantId, r.id, version.id, agentIds);
    if (denied.size === 0) return agentIds;
    // a denial by a policy names it; another check (the fleet's available components, decision 0330) gives its reason only
    await this.targets.skip(r.id, [...denied].map(([agentId, d]) => (d.policyId ? { agentId, reason: `denied by policy ${d.policyName}: ${d.reason}`, policy: { id: d.policyId, name: d.policyName } } : { agentId, reason: `${d.check}: ${d.reason}` })));
    this.log.info('Rollout {RolloutId}: {Denied} of {Agents} agents of the step were denied by a push-time check and Skipped', { RolloutId: r.id, Denied: denied.size, Agents: agentIds.length });
    return agentIds.filter((id) => !denied.has(id));
  }

  /**
   * Pushes the version to agents it is assigned to and records each outcome on their targets. Agents
   * moved or reassigned since their assignment are not pushed (their targets are Skipped): a stale
   * push would override what they run now. Returns how many were not sent it because they already
   * reported it (`unchanged`: recorded as pushed, their answer is the one they gave).
   */
  async deliver(r: RolloutEntity, desired: DesiredConfig, assigned: string[]): Promise<number> {
    if (assigned.length === 0) return 0;
    const states = await this.fleet.agentStates(assigned, r.tenantId);
    const agentIds: string[] = [];
    const gone: SkippedTarget[] = [];
    for (const agentId of assigned) {
      const reason = obsoleteReason(states.get(agentId), { groupId: r.groupId, configHash: desired.hash }, true);
      if (reason) gone.push({ agentId, reason });
      else agentIds.push(agentId);
    }
    await this.targets.skip(r.id, gone);
    // one batch (decision 0390): the leases in one statement, one envelope per owning instance
    // a rollback is sent whatever the agent reports now (it may report the version's hash already,
    // restored by itself): the rollback waits for a status given after this push
    const outcomes = await pushRemoteConfigToMany(
      this.dispatcher,
      agentIds.map((agentId) => ({ agentId, tenantId: r.tenantId })),
      desired,
      { force: r.kind === 'Rollback' },
    ).catch((error: unknown): DispatchOutcome[] => {
      this.log.warn('Pushing rollout {RolloutId} to {Agents} agents failed; they get the version when they reconnect', { RolloutId: r.id, Agents: agentIds.length }, error);
      return agentIds.map(() => 'no_session');
    });
    const pushed: string[] = [];
    const waiting: string[] = [];
    const skipped: SkippedTarget[] = [];
    outcomes.forEach((o, k) => {
      const agentId = agentIds[k]!;
      if (o === 'no_session') waiting.push(agentId);
      else if (o === 'cap_mismatch') skipped.push({ agentId, reason: NOT_ACCEPTING });
      else pushed.push(agentId);
    });
    await this.targets.recordPushes(r.id, pushed, waiting, skipped, this.clock.now());
    return outcomes.filter((o) => o === 'unchanged').length;
  }
}
