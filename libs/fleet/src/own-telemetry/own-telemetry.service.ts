import { Inject, Injectable } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock } from '@ampora/platform';
import { AgentRepository } from '../agents/agent.repository';
import { ConfigurationRepository } from '../configurations/configuration.repository';
import { FleetErrorCode, FleetException } from '../fleet.errors';
import type { Measure, Signal } from './domain/collector-metrics';
import { ComponentTelemetry, componentTelemetry, SignalTelemetry, signalTelemetry, TotalRow } from './domain/telemetry-summary';
import { OwnTelemetryRepository } from './own-telemetry.repository';
import { OwnTelemetryStore } from './own-telemetry.store';

export interface TelemetryView {
  window: { seconds: number; from: string; to: string };
  /** Agents whose telemetry is summed (1 for an agent). */
  agents: number;
  /** Agents among them that reported anything in the window. */
  reporting: number;
  signals: SignalTelemetry[];
  components: ComponentTelemetry[];
}

/** What one agent's components counted in one rollup bucket, per signal and measure (the gates' input). */
export interface TelemetrySeriesPoint {
  agentId: string;
  /** Bucket start (ms). */
  at: number;
  signal: Signal;
  measure: Measure;
  value: number;
}

/**
 * Agents' own telemetry as the API and the rollout gates read it (decision 0320): the rollups in
 * PostgreSQL plus what this instance received and has not written yet.
 */
@Injectable()
export class OwnTelemetryService {
  constructor(
    private readonly repository: OwnTelemetryRepository,
    private readonly store: OwnTelemetryStore,
    private readonly agents: AgentRepository,
    private readonly configurations: ConfigurationRepository,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  async forAgent(tenantId: string, agentId: string, windowSeconds?: number): Promise<TelemetryView & { agentId: string }> {
    const agent = await this.agents.findById(agentId);
    if (!agent || agent.tenantId !== tenantId) throw new FleetException(FleetErrorCode.AGENT_NOT_FOUND, `Agent ${agentId} was not found`);
    return { agentId, ...(await this.view(tenantId, [agentId], windowSeconds)) };
  }

  async forConfiguration(tenantId: string, configurationId: string, windowSeconds?: number): Promise<TelemetryView & { configurationId: string }> {
    const configuration = await this.configurations.findInTenant(tenantId, configurationId);
    if (!configuration) throw new FleetException(FleetErrorCode.CONFIGURATION_NOT_FOUND, `Configuration ${configurationId} was not found`);
    const agentIds = await this.repository.agentsRunning(tenantId, configurationId);
    return { configurationId, ...(await this.view(tenantId, agentIds, windowSeconds)) };
  }

  /**
   * The agents' counts per rollup bucket in [from, to), summed over components, per signal and measure
   * (PostgreSQL only: what every instance wrote; the rollout gates' input, read by the worker).
   */
  series(tenantId: string, agentIds: string[], from: Date, to: Date): Promise<TelemetrySeriesPoint[]> {
    return this.repository.series(tenantId, agentIds, from, to);
  }

  /** The rollup bucket width and how long written data may lag behind (ms), for the gates' windows. */
  get timing(): { bucketMs: number; settleMs: number } {
    const c = this.config.fleet.ownTelemetry;
    return { bucketMs: c.bucketSeconds * 1000, settleMs: c.flushSeconds * 1000 };
  }

  private get bucketSeconds(): number {
    return this.config.fleet.ownTelemetry.bucketSeconds;
  }

  private async view(tenantId: string, agentIds: string[], windowSeconds?: number): Promise<TelemetryView> {
    const seconds = windowSeconds ?? this.config.fleet.ownTelemetry.rateWindowSeconds;
    const to = this.clock.nowMs();
    const from = to - seconds * 1000;
    const bucketMs = this.bucketSeconds * 1000;
    const firstBucket = Math.floor(from / bucketMs) * bucketMs;
    const stored = await this.repository.totals(tenantId, agentIds, new Date(firstBucket), new Date(to + bucketMs), true);
    const ids = new Set(agentIds);
    const rows: Array<TotalRow & { agentId?: string }> = [...stored];
    for (const cell of this.store.unwritten(ids, firstBucket)) {
      if (cell.gauge) {
        const i = rows.findIndex((r) => r.agentId === cell.agentId && r.kind === cell.kind && r.component === cell.component && r.signal === cell.signal && r.measure === cell.measure);
        if (i >= 0) rows.splice(i, 1);
      }
      rows.push(cell);
    }
    const components = componentTelemetry(rows);
    return {
      window: { seconds, from: new Date(from).toISOString(), to: new Date(to).toISOString() },
      agents: agentIds.length,
      reporting: new Set(rows.map((r) => r.agentId)).size,
      signals: signalTelemetry(components, seconds),
      components,
    };
  }
}
