import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { LiveBus, LiveEvent } from '@ampora/platform';
import { GroupReconcileTrigger } from './group-reconcile.trigger';

/**
 * In the server: when an agent describes itself (first connect, changed attributes), ask for a
 * reconcile of its tenant so it joins its dynamic group within seconds rather than at the next
 * periodic pass. Requests are merged per tenant.
 */
@Injectable()
export class GroupReconcileListener implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(
    private readonly bus: LiveBus,
    private readonly trigger: GroupReconcileTrigger,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe((event: LiveEvent) => {
      if (event.type !== 'agent.status_changed') return;
      const payload = event.payload as { descriptionChanged?: boolean } | undefined;
      if (payload?.descriptionChanged) this.trigger.request(event.tenantId, 'agent described itself');
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }
}
