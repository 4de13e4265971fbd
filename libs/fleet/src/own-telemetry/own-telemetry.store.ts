import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AMPORA_CONFIG, AmporaConfig, Clock, createLogger, LiveBus, TimerHandle } from '@ampora/platform';
import { ComponentSample, increase, isGauge, seriesKey, SeriesMemory } from './domain/collector-metrics';
import { OwnTelemetryRepository, RollupCell } from './own-telemetry.repository';
import { FleetEvent, FleetEvents } from '../fleet.events';

interface AgentMemory {
  tenantId: string;
  lastAt: number;
  series: Map<string, SeriesMemory>;
}

/** Agents silent this long are dropped from memory (their next point counts from its series' start). */
const IDLE_MS = 3_600_000;
const RETENTION_SWEEP_MS = 600_000;

/**
 * Agents' own telemetry in memory (decision 0320): the last value of each counter series (to turn
 * cumulative counters into increases) and the increases not yet written, per rollup bucket, which are
 * written to agent_telemetry_rollups every AMPORA_AGENT_TELEMETRY_FLUSH_SECONDS (and on shutdown). Each
 * write publishes one `agent.telemetry` event per agent with what it reported since the last.
 */
@Injectable()
export class OwnTelemetryStore implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger('Ampora.Fleet.OwnTelemetry');
  private readonly agents = new Map<string, AgentMemory>();
  private pending = new Map<string, RollupCell>();
  /** The cells being written now (still counted by `unwritten`). */
  private writing: RollupCell[] = [];
  private timer?: TimerHandle;
  private flushing?: Promise<void>;
  private lastRetentionSweep = 0;

  constructor(
    private readonly repository: OwnTelemetryRepository,
    private readonly bus: LiveBus,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  onModuleInit(): void {
    this.timer = this.clock.setInterval(() => void this.flush().then(() => this.sweep()), this.settings.flushSeconds * 1000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.timer?.cancel();
    await this.flush();
  }

  private get settings() {
    return this.config.fleet.ownTelemetry;
  }

  /** Takes one request's samples of an agent: increases go to the current bucket, gauges replace. */
  ingest(tenantId: string, agentId: string, samples: ComponentSample[]): void {
    const now = this.clock.nowMs();
    let memory = this.agents.get(agentId);
    if (!memory) this.agents.set(agentId, (memory = { tenantId, lastAt: now, series: new Map() }));
    memory.lastAt = now;
    const bucketMs = this.settings.bucketSeconds * 1000;
    const bucketStart = Math.floor(now / bucketMs) * bucketMs;
    for (const s of samples) {
      const key = seriesKey(s);
      const gauge = isGauge(s.measure);
      let value = s.value;
      if (!gauge) {
        value = increase(s, memory.series.get(key)) ?? 0;
        if (s.cumulative) memory.series.set(key, { startNs: s.startNs, value: s.value });
      }
      const cellKey = `${agentId}\u0000${bucketStart}\u0000${key}`;
      const cell = this.pending.get(cellKey);
      if (cell) cell.value = gauge ? value : cell.value + value;
      else this.pending.set(cellKey, { tenantId, agentId, bucketStart, kind: s.kind, component: s.component, signal: s.signal, measure: s.measure, value, gauge });
    }
  }

  /** Cells received here and not written yet (the API adds them to what PostgreSQL has). */
  unwritten(agentIds: ReadonlySet<string>, from: number): RollupCell[] {
    const out: RollupCell[] = [];
    for (const cell of this.pending.values()) if (agentIds.has(cell.agentId) && cell.bucketStart >= from) out.push(cell);
    for (const cell of this.writing) if (agentIds.has(cell.agentId) && cell.bucketStart >= from) out.push(cell);
    return out;
  }

  /** When this instance last received the agent's telemetry (ms), if it did. */
  lastReceivedAt(agentId: string): number | undefined {
    return this.agents.get(agentId)?.lastAt;
  }

  /** Writes the pending cells (one flush at a time) and publishes what each agent reported. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    this.writing = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.repository.upsert(this.writing);
      this.announce(this.writing);
    } catch (error) {
      // kept for the next flush (added to what arrived meanwhile)
      for (const cell of this.writing) {
        const key = `${cell.agentId}\u0000${cell.bucketStart}\u0000${seriesKey(cell)}`;
        const newer = this.pending.get(key);
        if (!newer) this.pending.set(key, cell);
        else if (!cell.gauge) newer.value += cell.value;
      }
      this.log.warn('Could not write agents\' own telemetry ({Cells} cells); trying again with the next flush', { Cells: this.writing.length }, error);
    } finally {
      this.writing = [];
    }
  }

  private announce(cells: RollupCell[]): void {
    const byAgent = new Map<string, { tenantId: string; signals: Record<string, Record<string, number>> }>();
    for (const c of cells) {
      let entry = byAgent.get(c.agentId);
      if (!entry) byAgent.set(c.agentId, (entry = { tenantId: c.tenantId, signals: {} }));
      const signal = (entry.signals[c.signal] ??= {});
      signal[c.measure] = c.gauge ? c.value : (signal[c.measure] ?? 0) + c.value;
    }
    const at = this.clock.now().toISOString();
    for (const [agentId, { tenantId, signals }] of byAgent) {
      this.bus.publish<FleetEvent>({ type: FleetEvents.AgentTelemetry, tenantId, entityId: agentId, payload: { agentId, at, signals } });
    }
  }

  /** Forgets agents silent for an hour; deletes rollups past the retention (every ten minutes). */
  private async sweep(): Promise<void> {
    const now = this.clock.nowMs();
    for (const [id, memory] of this.agents) if (now - memory.lastAt > IDLE_MS) this.agents.delete(id);
    if (now - this.lastRetentionSweep < RETENTION_SWEEP_MS) return;
    this.lastRetentionSweep = now;
    try {
      await this.repository.deleteBefore(new Date(now - this.settings.retentionHours * 3_600_000));
    } catch (error) {
      this.log.warn('Could not delete old own-telemetry rollups', {}, error);
    }
  }
}
