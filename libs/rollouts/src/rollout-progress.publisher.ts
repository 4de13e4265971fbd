import { Injectable } from '@nestjs/common';
import { LiveBus } from '@ampora/platform';
import { RolloutSupportService } from '@ampora/fleet';
import { progressPayload } from './domain/progress-event';
import { RolloutEntity } from './entities/rollout.entity';
import { RolloutTargetQueries } from './persistence/rollout-target.queries';
import { RolloutEvent, RolloutEvents } from './rollouts.events';

/** Announces a rollout's progress (`rollout.progress`): its targets by state and the size of what it covers. */
@Injectable()
export class RolloutProgressPublisher {
  constructor(
    private readonly queries: RolloutTargetQueries,
    private readonly fleet: RolloutSupportService,
    private readonly bus: LiveBus,
  ) {}

  /** How many agents the rollout covers: its cohort, or its group's members now. */
  async size(r: RolloutEntity): Promise<number> {
    return r.cohort ? r.cohort.length : ((await this.fleet.memberCounts(r.tenantId, [r.groupId])).get(r.groupId) ?? 0);
  }

  async publish(r: RolloutEntity, step: number): Promise<void> {
    const [counts, size] = await Promise.all([this.queries.counts(r.id), this.size(r)]);
    this.bus.publish<RolloutEvent>({ type: RolloutEvents.Progress, tenantId: r.tenantId, entityId: r.id, payload: progressPayload(r.id, step, counts, size) });
  }
}
