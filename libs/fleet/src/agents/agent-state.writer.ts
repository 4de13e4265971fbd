import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, createLogger, LiveBus, Metrics, TenantLabels } from '@ampora/platform';
import { AgentRef, AgentReport, AgentStateSink, DisconnectInfo, Transport, uidToString } from '@ampora/opamp';
import { FleetEvent, FleetEvents } from '../fleet.events';
import { AgentDerivations } from './domain/agent-derivations';
import { toStoredFiles } from './domain/stored-config';
import { AgentConfigEventRepository, NewConfigEvent } from './agent-config-event.repository';
import { ConfigTextLimits } from '../configurations/config-limits';
import { Column, isDataError, Pending, stateUpdateStatement } from './agent-state.statement';

export interface FlushStats {
  rows: number;
  statements: number;
}

/** Flush attempts on shutdown before pending updates are given up (with an error line). */
const SHUTDOWN_FLUSH_ATTEMPTS = 5;

/** Rows per UPDATE statement. */
export const FLUSH_BATCH_ROWS = 1000;

/**
 * The agent inventory's write path. Reports are merged per agent in memory and written in batches:
 * one `UPDATE agents ... FROM unnest(...)` per shape of change and per thousand agents, every flush
 * interval. A heartbeat therefore never costs an UPDATE of its own. On a clean shutdown (after the
 * transports recorded every disconnect) the last batch is written; a failed write is put back and
 * retried on the next flush.
 */
@Injectable()
export class AgentStateWriter implements AgentStateSink, OnModuleInit, BeforeApplicationShutdown {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentStateWriter');
  private pending = new Map<string, Pending>();
  private events: Array<NewConfigEvent & { retried?: boolean }> = [];
  /** Each agent's last history entry: what it said (kind, hash, message: to skip repeats) and when (to keep entries in order). */
  private readonly lastEvent = new Map<string, { key: string; at: number }>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<FlushStats>;
  /** Totals since start, for tests and diagnostics. */
  readonly totals = { flushes: 0, rows: 0, statements: 0, dropped: 0 };
  lastFlush: FlushStats = { rows: 0, statements: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: LiveBus,
    private readonly history: AgentConfigEventRepository,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
    private readonly limits: ConfigTextLimits,
  ) {}

  /** Effective configs being checked against the limits, by agent (the latest report wins). */
  private readonly checking = new Map<string, Promise<void>>();

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), this.config.opamp.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * The last writes, before the database closes (Nest closes it in the shutdown hooks that follow):
   * everything pending is written, a failed batch is retried a few times, and what still could not
   * be written is named in an error line rather than silently dropped.
   */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    for (let attempt = 1; ; attempt++) {
      let failure: unknown;
      try {
        await this.flush();
      } catch (error) {
        failure = error;
      }
      // write() puts a batch it could not write back into pending: that is a failed attempt too
      const left = this.pending.size + this.checking.size + this.events.length;
      if (left === 0 && !this.flushing) return;
      if (attempt >= SHUTDOWN_FLUSH_ATTEMPTS) {
        this.log.error('{Rows} agent updates could not be written before the shutdown', { Rows: this.pending.size }, failure);
        return;
      }
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }

  get pendingAgents(): number {
    return this.pending.size;
  }

  connected(agent: AgentRef, info: { transport: Transport; instanceId: string; at: Date }): void {
    this.merge(agent.agentId, { connected: true, transport: info.transport, owner_instance: info.instanceId, connected_at: info.at, last_seen_at: info.at });
    this.bus.publish<FleetEvent>({ type: FleetEvents.AgentConnected, tenantId: agent.tenantId, entityId: agent.agentId, payload: { agentId: agent.agentId, transport: info.transport, instance: info.instanceId } });
  }

  disconnected(agent: AgentRef, at: Date, info: DisconnectInfo = {}): void {
    // a session superseded by a newer one on another instance: the agent did not disconnect
    if (info.superseded) return;
    this.merge(agent.agentId, { connected: false, disconnected_at: at });
    this.bus.publish<FleetEvent>({ type: FleetEvents.AgentDisconnected, tenantId: agent.tenantId, entityId: agent.agentId, payload: { agentId: agent.agentId, at: at.toISOString(), instance: this.config.app.instanceId } });
  }

  report(agent: AgentRef, report: AgentReport, at: Date): void {
    const agentId = agent.agentId;
    const row: Pending = { last_seen_at: at };
    if (report.capabilities !== undefined) row.capabilities = report.capabilities.toString();
    if (report.instanceUid) row.instance_uid = uidToString(report.instanceUid);
    if (report.description) {
      const d = AgentDerivations.fromDescription(report.description.identifying, report.description.nonIdentifying);
      row.identifying_attributes = report.description.identifying;
      row.non_identifying_attributes = report.description.nonIdentifying;
      row.display_name = d.displayName;
      row.agent_type = d.agentType;
      row.agent_version = d.agentVersion;
    }
    if (report.health) {
      row.health = report.health;
      row.healthy = report.health.healthy;
    }
    let effective: Pending | undefined;
    if (report.effectiveConfig) {
      effective = { effective_config: toStoredFiles(report.effectiveConfig.files), effective_config_hash: report.effectiveConfig.contentHash };
    }
    if (report.remoteConfigStatus) {
      const s = report.remoteConfigStatus;
      row.remote_config_status = s.status;
      row.remote_config_hash = s.hash;
      row.remote_config_error = s.errorMessage;
      row.remote_config_at = at;
      if (s.status === 'FAILED' && s.hash) {
        // the last failure stays on the agent after later statuses of other hashes
        row.last_failure_hash = s.hash;
        row.last_failure_message = s.errorMessage || null;
        row.last_failure_at = at;
      }
      if (s.hash) this.event(agent, { at, kind: s.status, configHash: s.hash, message: s.errorMessage || null });
    }
    if (report.failedConfigHash !== undefined) row.failed_config_hash = report.failedConfigHash || null;
    if (report.packageStatuses !== undefined) row.package_statuses = report.packageStatuses;
    if (report.availableComponents !== undefined) row.available_components = report.availableComponents;
    if (report.customCapabilities) row.custom_capabilities = report.customCapabilities;
    if (report.connectionSettingsStatus) row.connection_settings_status = report.connectionSettingsStatus;
    this.merge(agentId, row);
    if (report.effectiveConfig && effective) this.checkEffective(agent, report.effectiveConfig.files, effective);
    if (report.remoteConfigStatus || report.health || report.effectiveConfig || report.description || report.packageStatuses !== undefined) {
      // what live views and rollout gates react to; heartbeats publish nothing
      this.bus.publish<FleetEvent>({
        type: FleetEvents.AgentStatusChanged,
        tenantId: agent.tenantId,
        entityId: agentId,
        payload: {
          agentId,
          remoteConfigStatus: report.remoteConfigStatus,
          at: at.toISOString(),
          healthy: report.health?.healthy,
          effectiveConfigHash: report.effectiveConfig?.contentHash,
          descriptionChanged: Boolean(report.description),
          ...(report.packageStatuses !== undefined ? { packageStatusesChanged: true } : {}),
        },
      });
    }
  }

  remoteConfigSent(agent: AgentRef, hash: string, at: Date): void {
    this.event(agent, { at, kind: 'PUSHED', configHash: hash, message: null });
  }

  /**
   * Notes a history entry unless it repeats the agent's previous one (a full-state report repeats the
   * status; a re-offer repeats the push). Written with the next flush, after the agents' rows.
   *
   * An entry is never older than the agent's previous one: two frames read in the same millisecond
   * (an APPLYING and its FAILED, sent back to back) get times a millisecond apart, in the order they
   * came, so the history, newest first by time, lists them as they happened (decision 0448).
   */
  private event(agent: AgentRef, e: Omit<NewConfigEvent, 'tenantId' | 'agentId'>): void {
    const key = `${e.kind}|${e.configHash}|${e.message ?? ''}`;
    const last = this.lastEvent.get(agent.agentId);
    if (last?.key === key) return;
    const at = last && e.at.getTime() <= last.at ? new Date(last.at + 1) : e.at;
    if (this.lastEvent.size >= 100_000) this.lastEvent.clear();
    this.lastEvent.set(agent.agentId, { key, at: at.getTime() });
    this.events.push({ tenantId: agent.tenantId, agentId: agent.agentId, ...e, at });
  }

  /**
   * An effective config is stored with its flag: over the configuration limits it is too large to
   * analyse (drift unknown, never parsed on read; decision 0131). The scan yields to the event loop,
   * so the columns are merged when it ends; a newer report of the same agent supersedes it.
   */
  private checkEffective(agent: AgentRef, files: Record<string, { body: Uint8Array }>, columns: Pending): void {
    const text = Object.entries(files)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, f]) => Buffer.from(f.body).toString('utf8'))
      .join('\n');
    const check = this.limits
      .check(text)
      .catch(() => ({ limit: 'tokens' as const, max: 0, message: 'the scan failed' }))
      .then((v) => {
        if (this.checking.get(agent.agentId) !== check) return;
        this.checking.delete(agent.agentId);
        this.merge(agent.agentId, { ...columns, effective_config_too_large: v !== undefined });
        if (v) {
          Metrics.add('ampora_config_limit_exceeded_total', 1, { tenant: TenantLabels.of(agent.tenantId), source: 'effective_config', limit: v.limit });
          this.log.warn('The effective config of agent {AgentId} exceeds the {Limit} limit; it is kept but not analysed', { AgentId: agent.agentId, Limit: v.limit });
        }
      });
    this.checking.set(agent.agentId, check);
  }

  /** Writes everything pending now (effective configs under check included). Concurrent callers share one flush. */
  async flush(): Promise<FlushStats> {
    if (this.checking.size) await Promise.all(this.checking.values());
    while (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0 && this.events.length === 0) return { rows: 0, statements: 0 };
    const batch = this.pending;
    const events = this.events;
    this.pending = new Map();
    this.events = [];
    this.flushing = this.write(batch)
      .finally(() => this.writeEvents(events))
      .finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeEvents(events: Array<NewConfigEvent & { retried?: boolean }>): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.history.append(events);
    } catch (error) {
      // history is best effort: a failed write is retried once with the next flush, then dropped
      if (events.length <= FLUSH_BATCH_ROWS * 5) this.events.unshift(...events.filter((e) => !e.retried).map((e) => ({ ...e, retried: true })));
      this.log.warn('Writing {Events} remote-config history entries failed', { Events: events.length }, error);
    }
  }

  private merge(agentId: string, row: Pending): void {
    const current = this.pending.get(agentId);
    this.pending.set(agentId, current ? Object.assign(current, row) : row);
    if (this.pending.size >= FLUSH_BATCH_ROWS * 5 && !this.flushing) void this.flush().catch(() => undefined);
  }

  private async write(batch: Map<string, Pending>): Promise<FlushStats> {
    // group rows by the set of columns they change: each group is one statement per 1000 rows
    const groups = new Map<string, Array<[string, Pending]>>();
    for (const entry of batch) {
      const key = Object.keys(entry[1]).sort().join(',');
      const list = groups.get(key);
      if (list) list.push(entry);
      else groups.set(key, [entry]);
    }
    let statements = 0;
    const failed = new Map<string, Pending>();
    const dropped = new Set<string>();
    for (const [key, rows] of groups) {
      const columns = key.split(',') as Column[];
      for (let i = 0; i < rows.length; i += FLUSH_BATCH_ROWS) {
        const chunk = rows.slice(i, i + FLUSH_BATCH_ROWS);
        try {
          await this.update(columns, chunk);
          statements += 1;
        } catch (error) {
          if (chunk.length > 1 && isDataError(error)) {
            // one agent's data must not hold back the others: write the chunk row by row
            statements += await this.writeEach(columns, chunk, failed, dropped);
            continue;
          }
          if (isDataError(error)) {
            this.drop(chunk[0]![0], columns, error);
            dropped.add(chunk[0]![0]);
            continue;
          }
          this.log.warn('Writing {Rows} agent updates failed; they will be retried', { Rows: chunk.length }, error);
          for (const [id, row] of chunk) failed.set(id, row);
        }
      }
    }
    // put failures back under anything newer that arrived meanwhile
    for (const [id, row] of failed) this.pending.set(id, Object.assign(row, this.pending.get(id) ?? {}));
    const stats = { rows: batch.size - failed.size - dropped.size, statements };
    this.totals.dropped += dropped.size;
    this.lastFlush = stats;
    this.totals.flushes += 1;
    this.totals.rows += stats.rows;
    this.totals.statements += statements;
    if (failed.size) throw new Error(`${failed.size} agent updates could not be written`);
    return stats;
  }

  /** Writes rows one statement each; drops those PostgreSQL refuses for their data, puts back the others that fail. */
  private async writeEach(columns: Column[], rows: Array<[string, Pending]>, failed: Map<string, Pending>, dropped: Set<string>): Promise<number> {
    let statements = 0;
    for (const [id, row] of rows) {
      try {
        await this.update(columns, [[id, row]]);
        statements += 1;
      } catch (error) {
        if (isDataError(error)) {
          this.drop(id, columns, error);
          dropped.add(id);
        } else failed.set(id, row);
      }
    }
    return statements;
  }

  /**
   * An update PostgreSQL refuses for its data would fail every retry: it is dropped (the agent's next
   * full report restores its state), counted and logged with the agent and the SQLSTATE only, never
   * the values (the error's text and position quote them).
   */
  private drop(agentId: string, columns: Column[], error: unknown): void {
    const sqlState = String((error as { code?: unknown }).code ?? 'unknown');
    Metrics.add('ampora_agent_state_updates_dropped_total', 1, { sqlstate: sqlState });
    this.log.warn('The state update of agent {AgentId} was refused by the database for its data (SQLSTATE {SqlState}, columns {Columns}); dropped', {
      AgentId: agentId,
      SqlState: sqlState,
      Columns: columns.join(','),
    });
  }

  private async update(columns: Column[], rows: Array<[string, Pending]>): Promise<void> {
    const { sql, params } = stateUpdateStatement(columns, rows, this.config.app.instanceId);
    await this.dataSource.query(sql, params);
  }
}
