import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig } from '@ampora/platform';
import { AgentCap, AgentRef, hasCapability, OwnTelemetryOffers } from '@ampora/opamp';
import { OwnTelemetryCredentials } from './own-telemetry.credentials';

type Settings = { destinationEndpoint: string; headers?: { headers: Array<{ key: string; value: string }> } };

/**
 * The own-telemetry part of an agent's connection settings (decision 0320), bound to OpAMP's
 * `ownTelemetry` port: `own_metrics` points at Ampora's intake with the agent's intake credential as
 * an Authorization header; `own_traces` and `own_logs` at the operator's OTLP endpoints, when set.
 */
@Injectable()
export class OwnTelemetrySettings implements OwnTelemetryOffers {
  constructor(
    private readonly credentials: OwnTelemetryCredentials,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async offer(agent: AgentRef & { capabilities: bigint }): Promise<{ ownMetrics?: Settings; ownTraces?: Settings; ownLogs?: Settings } | undefined> {
    const c = this.config.fleet.ownTelemetry;
    if (!c.enabled) return undefined;
    const out: { ownMetrics?: Settings; ownTraces?: Settings; ownLogs?: Settings } = {};
    if (hasCapability(agent.capabilities, AgentCap.ReportsOwnMetrics)) {
      const token = await this.credentials.tokenFor(agent.tenantId, agent.agentId);
      out.ownMetrics = { destinationEndpoint: c.metricsUrl, headers: { headers: [{ key: 'Authorization', value: `Bearer ${token}` }] } };
    }
    const operator = Object.entries(c.otlpHeaders).map(([key, value]) => ({ key, value }));
    const external = (url: string): Settings => ({ destinationEndpoint: url, ...(operator.length ? { headers: { headers: operator } } : {}) });
    if (c.tracesUrl && hasCapability(agent.capabilities, AgentCap.ReportsOwnTraces)) out.ownTraces = external(c.tracesUrl);
    if (c.logsUrl && hasCapability(agent.capabilities, AgentCap.ReportsOwnLogs)) out.ownLogs = external(c.logsUrl);
    return Object.keys(out).length ? out : undefined;
  }
}
