import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Clock, createLogger, isEvent, LiveBus, PublishedLiveEvent, TimerHandle } from '@ampora/platform';
import { FleetEvent, FleetEvents } from '@ampora/fleet';
import { AgentObservation } from './domain/target-observation';
import { RolloutObserver } from './rollout-observer.service';
import { RolloutRepository } from './persistence/rollout.repository';
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
  private timer?: TimerHandle;
  private running?: Promise<unknown>;
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly observer: RolloutObserver,
    private readonly repository: RolloutRepository,
    private readonly transitions: RolloutTransitions,
    private readonly clock: Clock,
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
}
