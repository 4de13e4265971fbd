import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, isEvent, LiveBus } from '@ampora/platform';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { GroupReconcileTrigger } from './group-reconcile.trigger';

/**
 * In the server: when an agent describes itself (first connect, changed attributes), ask for a
 * reconcile of its tenant so it joins its dynamic group within seconds rather than at the next
 * periodic pass. Requests are merged per tenant. Only events published by this instance count: the
 * bus delivers every instance's events everywhere, and one reconcile request per change is enough.
 */
@Injectable()
export class GroupReconcileListener implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly trigger: GroupReconcileTrigger,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe(
      (event) => {
        if (!isEvent<FleetEvent, typeof FleetEvents.AgentStatusChanged>(event, FleetEvents.AgentStatusChanged)) return;
        if (event.payload?.descriptionChanged) this.trigger.request(event.tenantId, 'agent described itself');
      },
      { name: 'fleet.group-reconcile', filter: (event) => event.type === FleetEvents.AgentStatusChanged && event.origin === this.config.app.instanceId },
    );
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
