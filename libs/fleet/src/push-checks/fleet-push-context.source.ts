import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DryRunSubject, PushContextSource, TenantService } from '@ampora/governance';
import { agentView, PushGate } from './push-gate.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Governance's `PushContextSource` port, bound by the fleet (decision 0275): the dry run
 * `POST /api/policies/{id}/evaluate` with `{ agentId, versionId }` sees the agent and the version the
 * way the real push does (same agent view, same parsing, current = the agent's effective config).
 */
@Injectable()
export class FleetPushContextSource extends PushContextSource {
  constructor(
    private readonly dataSource: DataSource,
    private readonly gate: PushGate,
    private readonly tenants: TenantService,
  ) {
    super();
  }

  async resolve(tenantId: string, agentId: string, versionId: string): Promise<DryRunSubject | undefined> {
    if (!UUID.test(agentId) || !UUID.test(versionId)) return undefined;
    const [agent]: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT a.id, a.identifying_attributes, a.non_identifying_attributes, a.capabilities::text AS capabilities, a.labels, g.name AS group_name, a.effective_config
       FROM agents a LEFT JOIN groups g ON g.id = a.group_id WHERE a.tenant_id = $1 AND a.id = $2`,
      [tenantId, agentId],
    );
    const [version]: Array<{ files: Record<string, { contentType: string; body: string }> }> = await this.dataSource.query(
      `SELECT files FROM configuration_versions WHERE tenant_id = $1 AND id = $2`,
      [tenantId, versionId],
    );
    if (!agent || !version) return undefined;
    const tenant = await this.tenants.findById(tenantId);
    const current = agent.effective_config ? this.gate.parseFiles(agent.effective_config) : undefined;
    return {
      tenantName: tenant?.name ?? tenantId,
      agent: agentView(agent as any),
      config: this.gate.parseFiles(version.files),
      ...(current !== undefined ? { currentConfig: current } : {}),
    };
  }
}
