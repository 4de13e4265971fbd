import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { createLogger, LiveBus, PublishedLiveEvent } from '@ampora/platform';
import { AgentObservation } from './domain/target-observation';
import { RolloutEngine } from './rollout-engine.service';
import { RolloutRepository } from './rollout.repository';
import { RolloutTransitions } from './rollout-transitions';

/** How long agent events are gathered before the engine looks at them together. */
const BATCH_MS = 100;
const BATCH_MAX = 5000;

interface StatusPayload {
  agentId: string;
  remoteConfigStatus?: { status: string; hash: string; errorMessage?: string };
  healthy?: boolean;
  effectiveConfigHash?: string;
}

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
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly engine: RolloutEngine,
    private readonly repository: RolloutRepository,
    private readonly transitions: RolloutTransitions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.unsubscribe = this.bus.subscribe((e) => this.onEvent(e), {
      name: 'rollout-gates',
      filter: (e) => e.type === 'agent.status_changed' || e.type === 'agent.disconnected',
    });
    for (const r of await this.repository.activeIds()) {
      await this.transitions.schedule(r.tenantId, r.id, 'worker started').catch((error: unknown) => this.log.warn('Could not schedule rollout {RolloutId}', { RolloutId: r.id }, error));
    }
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private onEvent(e: PublishedLiveEvent): void {
    const payload = e.payload as StatusPayload & { at?: string };
    const agentId = payload?.agentId ?? e.entityId;
    if (!agentId) return;
    const o = this.pending.get(agentId) ?? {};
    if (e.type === 'agent.disconnected') {
      o.disconnectedAt = new Date(payload.at ?? e.at);
    } else {
      if (payload.remoteConfigStatus) o.remoteConfig = { ...payload.remoteConfigStatus, at: new Date(payload.at ?? e.at) };
      if (payload.healthy !== undefined) o.healthy = payload.healthy;
      if (payload.effectiveConfigHash) o.effectiveHash = payload.effectiveConfigHash;
      if (!payload.remoteConfigStatus && payload.healthy === undefined && !payload.effectiveConfigHash) return;
    }
    this.pending.set(agentId, o);
    if (this.pending.size >= BATCH_MAX) this.flushSoon(0);
    else this.flushSoon(BATCH_MS);
  }

  private flushSoon(ms: number): void {
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
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
    this.running = this.engine
      .observe(batch)
      .catch((error: unknown) => this.log.warn('Applying {Agents} agent events to rollouts failed; the next tick catches up from the inventory', { Agents: batch.size }, error))
      .finally(() => (this.running = undefined));
    await this.running;
  }
}
