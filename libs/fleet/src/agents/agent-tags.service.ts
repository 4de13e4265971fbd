import { Injectable } from '@nestjs/common';
import { LiveBus, Principal } from '@ampora/platform';
import { AuditService } from '@ampora/governance';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { FleetTransactions } from '../fleet-transactions';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import { GroupReconcileTrigger } from '../groups/group-reconcile.trigger';
import { AgentRepository } from './agent.repository';

/**
 * Operator tags (decision 0161): replaced as a whole by `PATCH /api/agents/{id}`; merged into the
 * agent's labels as before (so `?label=` sees them too), filtered with `?tag=`, and seen by selectors
 * as `tag.*`. A change asks the worker to reconcile dynamic groups at once.
 */
@Injectable()
export class AgentTagsService {
  constructor(
    private readonly agents: AgentRepository,
    private readonly tx: FleetTransactions,
    private readonly audit: AuditService,
    private readonly reconcile: GroupReconcileTrigger,
    private readonly bus: LiveBus,
  ) {}

  async replace(caller: Principal, id: string, tags: Record<string, string>): Promise<void> {
    const changed = await this.tx.run(async ({ manager, afterCommit }) => {
      const r = await this.agents.replaceTags(manager, caller.tenantId, id, tags);
      if (!r) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${id} was not found`);
      await this.audit.record(manager, { entityType: 'Agent', entityId: id, action: 'TagsChanged', before: { tags: r.before }, after: { tags } });
      const same = JSON.stringify(sorted(r.before)) === JSON.stringify(sorted(tags));
      if (!same) afterCommit(() => this.bus.publish<FleetEvent>({ type: FleetEvents.AgentTagsChanged, tenantId: caller.tenantId, entityId: id, payload: { agentId: id, tags } }));
      return !same;
    });
    if (changed) this.reconcile.request(caller.tenantId, 'agent tags changed');
  }
}

function sorted(tags: Record<string, string>): Array<[string, string]> {
  return Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
