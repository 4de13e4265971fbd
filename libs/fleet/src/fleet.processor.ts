import { Processor } from '@nestjs/bullmq';
import { JobProcessor, JobRegistry, RequestContext } from '@ampora/platform';
import { AgentForgetService } from './agents/agent-forget.service';
import { FleetDispatchService } from './assignment/fleet-dispatch.service';
import { DispatchJob, FLEET_QUEUE, ReconcileGroupsJob } from './fleet.jobs';
import { GroupReconciler } from './groups/group-reconciler.service';

/** The worker's handlers of the fleet queue: thin, they call the services. */
@Processor(FLEET_QUEUE.name)
export class FleetProcessor extends JobProcessor<typeof FLEET_QUEUE> {
  constructor(
    registry: JobRegistry,
    private readonly reconciler: GroupReconciler,
    private readonly dispatch: FleetDispatchService,
    private readonly forgetting: AgentForgetService,
  ) {
    super(registry, FLEET_QUEUE);
  }

  protected handlers() {
    return {
      'fleet.reconcile-groups': async (payload: ReconcileGroupsJob) =>
        payload?.tenantId ? [await this.reconciler.reconcileTenant(payload.tenantId)] : this.reconciler.reconcileAll(),
      'fleet.dispatch': async (payload: DispatchJob) => {
        const tenantId = RequestContext.tenantId();
        if (!tenantId) throw new Error('a dispatch job carries no tenant');
        return this.dispatch.run(tenantId, payload.action, payload.agentIds, payload.reason);
      },
      'fleet.forget-departed': async () => this.forgetting.forgetDeparted(),
    };
  }
}
