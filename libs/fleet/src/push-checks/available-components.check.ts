import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PushCheckRequest, PushCheckResult, PushDenial, PushTimeCheck } from '@ampora/governance';
import { agentCatalogue, describeMissing, missingComponents } from '../configurations/domain/component-availability';

/** The check's name (`pushDenial.check`, the rollout target's reason). */
export const AVAILABLE_COMPONENTS_CHECK = 'available-components';

/**
 * Fleet's push-time check (issue 20 item 3, decision 0330): an agent that reported its components and
 * lacks one the pushed configuration uses is denied, with the missing components as the reason — it
 * could not run that configuration. Agents that reported no catalogue are not judged. Registered with
 * governance's `PushTimeChecks` by `FleetModule` (after the policies); one statement per push.
 */
@Injectable()
export class AvailableComponentsCheck implements PushTimeCheck {
  readonly name = AVAILABLE_COMPONENTS_CHECK;

  constructor(private readonly dataSource: DataSource) {}

  async check(request: PushCheckRequest): Promise<PushCheckResult> {
    const denied = new Map<string, PushDenial>();
    if (request.targets.length === 0 || request.config === undefined) return { denied };
    const rows: Array<{ id: string; available_components: unknown; non_identifying_attributes: Record<string, unknown> | null }> = await this.dataSource.query(
      `SELECT id, available_components, non_identifying_attributes FROM agents WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
      [request.tenantId, request.targets.map((t) => t.agent.id)],
    );
    for (const r of rows) {
      const catalogue = agentCatalogue(r.available_components, r.non_identifying_attributes);
      if (!catalogue) continue;
      const missing = missingComponents(request.config, catalogue);
      if (missing.length === 0) continue;
      denied.set(r.id, { check: AVAILABLE_COMPONENTS_CHECK, policyId: '', policyName: '', reason: `missing components: ${describeMissing(missing)}` });
    }
    return { denied };
  }
}
