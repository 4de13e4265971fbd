import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AMPORA_CONFIG, AmporaConfig, createLogger, LiveBus } from '@ampora/platform';
import { AgentRef, AgentReport, AgentStateSink, DisconnectInfo, Transport, uidToString } from '@ampora/opamp';
import { AgentDerivations } from './domain/agent-derivations';
import { toStoredFiles } from './domain/stored-config';

/** Column → SQL type, for the casts of the batched UPDATE ... FROM (VALUES ...). */
const COLUMN_TYPES = {
  last_seen_at: 'timestamptz',
  connected: 'boolean',
  transport: 'varchar',
  owner_instance: 'varchar',
  connected_at: 'timestamptz',
  disconnected_at: 'timestamptz',
  capabilities: 'bigint',
  instance_uid: 'uuid',
  identifying_attributes: 'jsonb',
  non_identifying_attributes: 'jsonb',
  display_name: 'varchar',
  agent_type: 'varchar',
  agent_version: 'varchar',
  healthy: 'boolean',
  health: 'jsonb',
  effective_config: 'jsonb',
  effective_config_hash: 'text',
  remote_config_status: 'varchar',
  remote_config_hash: 'varchar',
  remote_config_error: 'text',
  failed_config_hash: 'varchar',
  package_statuses: 'jsonb',
  available_components: 'jsonb',
  custom_capabilities: 'jsonb',
  connection_settings_status: 'jsonb',
} as const;
type Column = keyof typeof COLUMN_TYPES;

/** Columns whose new value must be combined with the stored row. */
const LABEL_SOURCES: ReadonlySet<Column> = new Set(['identifying_attributes', 'non_identifying_attributes']);

type Pending = Partial<Record<Column, unknown>>;

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
 * one `UPDATE agents ... FROM (VALUES ...)` per shape of change and per thousand agents, every flush
 * interval. A heartbeat therefore never costs an UPDATE of its own. On a clean shutdown (after the
 * transports recorded every disconnect) the last batch is written; a failed write is put back and
 * retried on the next flush.
 */
@Injectable()
export class AgentStateWriter implements AgentStateSink, OnModuleInit, BeforeApplicationShutdown {
  private readonly log = createLogger('Ampora.Fleet.Agents.AgentStateWriter');
  private pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<FlushStats>;
  /** Totals since start, for tests and diagnostics. */
  readonly totals = { flushes: 0, rows: 0, statements: 0 };
  lastFlush: FlushStats = { rows: 0, statements: 0 };

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: LiveBus,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

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
      try {
        await this.flush();
        if (this.pending.size === 0 && !this.flushing) return;
      } catch (error) {
        if (attempt >= SHUTDOWN_FLUSH_ATTEMPTS) {
          this.log.error('{Rows} agent updates could not be written before the shutdown', { Rows: this.pending.size }, error);
          return;
        }
        await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
  }

  get pendingAgents(): number {
    return this.pending.size;
  }

  connected(agent: AgentRef, info: { transport: Transport; instanceId: string; at: Date }): void {
    this.merge(agent.agentId, { connected: true, transport: info.transport, owner_instance: info.instanceId, connected_at: info.at, last_seen_at: info.at });
    this.bus.publish({ type: 'agent.connected', tenantId: agent.tenantId, entityId: agent.agentId, payload: { agentId: agent.agentId, transport: info.transport, instance: info.instanceId } });
  }

  disconnected(agent: AgentRef, at: Date, info: DisconnectInfo = {}): void {
    // a session superseded by a newer one on another instance: the agent did not disconnect
    if (info.superseded) return;
    this.merge(agent.agentId, { connected: false, disconnected_at: at });
    this.bus.publish({ type: 'agent.disconnected', tenantId: agent.tenantId, entityId: agent.agentId, payload: { agentId: agent.agentId, at: at.toISOString(), instance: this.config.app.instanceId } });
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
    if (report.effectiveConfig) {
      row.effective_config = toStoredFiles(report.effectiveConfig.files);
      row.effective_config_hash = report.effectiveConfig.contentHash;
    }
    if (report.remoteConfigStatus) {
      row.remote_config_status = report.remoteConfigStatus.status;
      row.remote_config_hash = report.remoteConfigStatus.hash;
      row.remote_config_error = report.remoteConfigStatus.errorMessage;
    }
    if (report.failedConfigHash !== undefined) row.failed_config_hash = report.failedConfigHash || null;
    if (report.packageStatuses !== undefined) row.package_statuses = report.packageStatuses;
    if (report.availableComponents !== undefined) row.available_components = report.availableComponents;
    if (report.customCapabilities) row.custom_capabilities = report.customCapabilities;
    if (report.connectionSettingsStatus) row.connection_settings_status = report.connectionSettingsStatus;
    this.merge(agentId, row);
    if (report.remoteConfigStatus || report.health || report.effectiveConfig || report.description) {
      // what live views and rollout gates react to; heartbeats publish nothing
      this.bus.publish({
        type: 'agent.status_changed',
        tenantId: agent.tenantId,
        entityId: agentId,
        payload: {
          agentId,
          remoteConfigStatus: report.remoteConfigStatus,
          healthy: report.health?.healthy,
          effectiveConfigHash: report.effectiveConfig?.contentHash,
          descriptionChanged: Boolean(report.description),
        },
      });
    }
  }

  /** Writes everything pending now. Concurrent callers share one flush. */
  async flush(): Promise<FlushStats> {
    if (this.flushing) await this.flushing.catch(() => undefined);
    if (this.pending.size === 0) return { rows: 0, statements: 0 };
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch).finally(() => (this.flushing = undefined));
    return this.flushing;
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
    for (const [key, rows] of groups) {
      const columns = key.split(',') as Column[];
      for (let i = 0; i < rows.length; i += FLUSH_BATCH_ROWS) {
        const chunk = rows.slice(i, i + FLUSH_BATCH_ROWS);
        try {
          await this.update(columns, chunk);
          statements += 1;
        } catch (error) {
          this.log.warn('Writing {Rows} agent updates failed; they will be retried', { Rows: chunk.length }, error);
          for (const [id, row] of chunk) failed.set(id, row);
        }
      }
    }
    // put failures back under anything newer that arrived meanwhile
    for (const [id, row] of failed) this.pending.set(id, Object.assign(row, this.pending.get(id) ?? {}));
    const stats = { rows: batch.size - failed.size, statements };
    this.lastFlush = stats;
    this.totals.flushes += 1;
    this.totals.rows += stats.rows;
    this.totals.statements += statements;
    if (failed.size) throw new Error(`${failed.size} agent updates could not be written`);
    return stats;
  }

  private async update(columns: Column[], rows: Array<[string, Pending]>): Promise<void> {
    const params: unknown[] = [];
    const tuples = rows.map(([id, row]) => {
      const cells = [`$${params.push(id)}::uuid`];
      for (const c of columns) {
        const value = row[c];
        const json = COLUMN_TYPES[c] === 'jsonb';
        cells.push(`$${params.push(json && value !== null ? JSON.stringify(value) : value)}::${COLUMN_TYPES[c]}`);
      }
      return `(${cells.join(', ')})`;
    });
    const sets = columns.map((c) => `${c} = v.${c}`);
    if (columns.some((c) => LABEL_SOURCES.has(c))) {
      const ident = columns.includes('identifying_attributes') ? 'v.identifying_attributes' : 'a.identifying_attributes';
      const nonIdent = columns.includes('non_identifying_attributes') ? 'v.non_identifying_attributes' : 'a.non_identifying_attributes';
      sets.push(`labels = ${nonIdent} || ${ident} || a.tags`);
    }
    sets.push('updated_at = now()');
    // Several instances write the same agent when it moves between them, each in its own flush: a
    // connect applies only if it is not older than the recorded one, and a disconnect only while this
    // instance is still the recorded owner (the agent may already be connected elsewhere).
    let where = 'a.id = v.id';
    if (columns.includes('connected')) {
      const newer = columns.includes('connected_at') ? '(a.connected_at IS NULL OR a.connected_at <= v.connected_at)' : 'true';
      where += ` AND CASE WHEN v.connected THEN ${newer} ELSE (a.owner_instance IS NULL OR a.owner_instance = $${params.push(this.config.app.instanceId)}) END`;
    }
    await this.dataSource.query(`UPDATE agents AS a SET ${sets.join(', ')} FROM (VALUES ${tuples.join(', ')}) AS v(id, ${columns.join(', ')}) WHERE ${where}`, params);
  }
}
