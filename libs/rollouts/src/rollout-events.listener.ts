import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, isEvent, LiveBus, PublishedLiveEvent, TimerHandle } from '@ampora/platform';
import { FleetEvent, FleetEvents } from '@ampora/fleet';
import { AgentObservation } from './domain/target-observation';
import { RolloutObserver } from './rollout-observer.service';
import { RolloutRepository } from './persistence/rollout.repository';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { RolloutTransitions } from './rollout-transitions';

/** How long agent events are gathered before the engine looks at them together. */
const BATCH_MS = 100;
const BATCH_MAX = 5000;

/**
 * Event-driven gates (worker): agents' status changes and disconnects, from every instance through
 * the live-update bus, are merged per agent for a moment and handed to the engine in one batch. A
 * worker that was down misses events; the engine's tick reads the agents' rows to catch up.
 * On start it makes sure every running rollout has its tick schedule.
 */
@Injectable()
export class RolloutEventsListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = createLogger('Ampora.Fleet.Rollouts.RolloutEventsListener');
  private pending = new Map<string, AgentObservation>();
  /** Agents that reported package statuses: their package rollouts' ticks are kicked (decision 0375). */
  private packageAgents = new Set<string>();
  private timer?: TimerHandle;
  private packageTimer?: TimerHandle;
  private running?: Promise<unknown>;
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly observer: RolloutObserver,
    private readonly repository: RolloutRepository,
    private readonly transitions: RolloutTransitions,
    private readonly clock: Clock,
    private readonly queries: RolloutTargetQueries,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.bus.subscribe((e) => this.onEvent(e), {
      name: 'rollout-gates',
      filter: (e) => isEvent<FleetEvent, typeof FleetEvents.AgentStatusChanged>(e, FleetEvents.AgentStatusChanged) || isEvent<FleetEvent, typeof FleetEvents.AgentDisconnected>(e, FleetEvents.AgentDisconnected),
    });
    for (const r of await this.repository.activeIds()) {
      await this.transitions.schedule(r.tenantId, r.id, 'worker started').catch((error: unknown) => this.log.warn('Could not schedule rollout {RolloutId}', { RolloutId: r.id }, error));
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    this.timer?.cancel();
    this.packageTimer?.cancel();
    await this.running?.catch(() => undefined);
  }

  private onEvent(e: PublishedLiveEvent): void {
    if (isEvent<FleetEvent, typeof FleetEvents.AgentDisconnected>(e, FleetEvents.AgentDisconnected)) {
      const agentId = e.payload?.agentId ?? e.entityId;
      if (!agentId) return;
      const o = this.pending.get(agentId) ?? {};
      o.disconnectedAt = new Date(e.payload?.at ?? e.at);
      this.pending.set(agentId, o);
    } else if (isEvent<FleetEvent, typeof FleetEvents.AgentStatusChanged>(e, FleetEvents.AgentStatusChanged)) {
      const payload = e.payload;
      const agentId = payload?.agentId ?? e.entityId;
      if (!agentId) return;
      if (payload.packageStatusesChanged) this.packageStatusesReported(agentId);
      const o = this.pending.get(agentId) ?? {};
      if (payload.remoteConfigStatus) o.remoteConfig = { ...payload.remoteConfigStatus, at: new Date(payload.at ?? e.at) };
      if (payload.healthy !== undefined) o.healthy = payload.healthy;
      if (payload.effectiveConfigHash) o.effectiveHash = payload.effectiveConfigHash;
      if (!payload.remoteConfigStatus && payload.healthy === undefined && !payload.effectiveConfigHash) return;
      this.pending.set(agentId, o);
    } else {
      return;
    }
    if (this.pending.size >= BATCH_MAX) this.flushSoon(0);
    else this.flushSoon(BATCH_MS);
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private async flush(): Promise<void> {
    // one batch at a time: events arriving meanwhile wait for the next
    if (this.running) return this.flushSoon(BATCH_MS);
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.running = this.observer
      .observe(batch)
      .catch((error: unknown) => this.log.warn('Applying {Agents} agent events to rollouts failed; the next tick catches up from the inventory', { Agents: batch.size }, error))
      .finally(() => (this.running = undefined));
    await this.running;
  }

  /**
   * A package rollout judges its targets from the agents' rows on its tick (decision 0375): agents that
   * reported package statuses get their rollouts' next tick early, once the state writer's flush
   * (every AMPORA_OPAMP_FLUSH_INTERVAL_MS) has written the statuses. A kick that comes too soon
   * anyway costs one tick; the schedule's ticks still follow.
   */
  private packageStatusesReported(agentId: string): void {
    this.packageAgents.add(agentId);
    this.packageTimer ??= this.clock.setTimeout(() => {
      this.packageTimer = undefined;
      const agentIds = [...this.packageAgents];
      this.packageAgents = new Set();
      void this.kickPackageRollouts(agentIds).catch((error: unknown) => this.log.warn('Looking up the package rollouts of {Agents} agents failed; their ticks follow the schedule', { Agents: agentIds.length }, error));
    }, this.config.opamp.flushIntervalMs + 2 * BATCH_MS);
  }

  private async kickPackageRollouts(agentIds: string[]): Promise<void> {
    for (const { rolloutId, tenantId } of await this.queries.packageRolloutsOf(agentIds)) {
      await this.transitions.kick(tenantId, rolloutId, 'package statuses reported').catch((error: unknown) => this.log.debug('Could not kick rollout {RolloutId}: {Error}', { RolloutId: rolloutId, Error: String(error) }));
    }
  }
}
