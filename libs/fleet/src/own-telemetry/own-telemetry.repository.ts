import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { ComponentKind, Measure, Signal } from './domain/collector-metrics';

/** One rollup cell: what one agent's component did for one signal and measure in one bucket. */
export interface RollupCell {
  tenantId: string;
  agentId: string;
  bucketStart: number;
  kind: ComponentKind;
  component: string;
  signal: Signal;
  measure: Measure;
  value: number;
  /** A gauge's cell keeps the last value; a count's adds up. */
  gauge: boolean;
}

/** A sum over buckets (counts) or the latest bucket's value (gauges), per component, signal and measure. */
export interface RollupTotal {
  agentId?: string;
  kind: ComponentKind;
  component: string;
  signal: Signal;
  measure: Measure;
  value: number;
}

const UPSERT_ROWS = 1000;

/** agent_telemetry_rollups and agent_telemetry_keys (decision 0320). */
@Injectable()
export class OwnTelemetryRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Writes cells (counts added, gauges replaced); cells of agents that are gone are dropped. */
  async upsert(cells: RollupCell[]): Promise<void> {
    for (let i = 0; i < cells.length; i += UPSERT_ROWS) {
      const chunk = cells.slice(i, i + UPSERT_ROWS);
      const col = <K extends keyof RollupCell>(k: K) => chunk.map((c) => c[k]);
      await this.dataSource.query(
        `INSERT INTO agent_telemetry_rollups AS r (tenant_id, agent_id, bucket_start, component_kind, component, signal, measure, value)
         SELECT c.tenant_id, c.agent_id, c.bucket_start, c.kind, c.component, c.signal, c.measure, c.value
           FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::bool[])
                AS c(tenant_id, agent_id, bucket_start, kind, component, signal, measure, value, gauge)
           JOIN agents a ON a.id = c.agent_id AND a.tenant_id = c.tenant_id
         ON CONFLICT (agent_id, bucket_start, component_kind, component, signal, measure)
         DO UPDATE SET value = CASE WHEN excluded.measure = 'queue_size' THEN excluded.value ELSE r.value + excluded.value END`,
        [col('tenantId'), col('agentId'), chunk.map((c) => new Date(c.bucketStart)), col('kind'), col('component').map((s) => s.slice(0, 200)), col('signal'), col('measure'), col('value'), col('gauge')],
      );
    }
  }

  /** Totals of the agents' buckets that start in [from, to): counts summed, gauges from the latest bucket. */
  async totals(tenantId: string, agentIds: string[], from: Date, to: Date, perAgent = false): Promise<RollupTotal[]> {
    if (agentIds.length === 0) return [];
    const rows: Array<{ agent_id: string | null; component_kind: ComponentKind; component: string; signal: Signal; measure: Measure; value: number }> = await this.dataSource.query(
      `WITH cells AS (
         SELECT agent_id, component_kind, component, signal, measure, value, bucket_start,
                row_number() OVER (PARTITION BY agent_id, component_kind, component, signal, measure ORDER BY bucket_start DESC) AS latest
           FROM agent_telemetry_rollups
          WHERE tenant_id = $1 AND agent_id = ANY($2::uuid[]) AND bucket_start >= $3 AND bucket_start < $4)
       SELECT ${perAgent ? 'agent_id' : 'NULL::uuid AS agent_id'}, component_kind, component, signal, measure,
              SUM(CASE WHEN measure = 'queue_size' THEN (CASE WHEN latest = 1 THEN value ELSE 0 END) ELSE value END)::float8 AS value
         FROM cells
        GROUP BY ${perAgent ? 'agent_id, ' : ''}component_kind, component, signal, measure`,
      [tenantId, agentIds, from, to],
    );
    return rows.map((r) => ({ ...(r.agent_id ? { agentId: r.agent_id } : {}), kind: r.component_kind, component: r.component, signal: r.signal, measure: r.measure, value: Number(r.value) }));
  }

  /** Per agent, bucket, signal and measure, the counts of the agents' buckets that start in [from, to) (summed over components). */
  async series(tenantId: string, agentIds: string[], from: Date, to: Date): Promise<Array<{ agentId: string; at: number; signal: Signal; measure: Measure; value: number }>> {
    if (agentIds.length === 0) return [];
    const rows: Array<{ agent_id: string; bucket_start: Date; signal: Signal; measure: Measure; value: number }> = await this.dataSource.query(
      `SELECT agent_id, bucket_start, signal, measure, SUM(value)::float8 AS value
         FROM agent_telemetry_rollups
        WHERE tenant_id = $1 AND agent_id = ANY($2::uuid[]) AND bucket_start >= $3 AND bucket_start < $4 AND measure <> 'queue_size'
        GROUP BY agent_id, bucket_start, signal, measure`,
      [tenantId, agentIds, from, to],
    );
    return rows.map((r) => ({ agentId: r.agent_id, at: new Date(r.bucket_start).getTime(), signal: r.signal, measure: r.measure, value: Number(r.value) }));
  }

  /** The agents of the tenant whose assigned version is one of the configuration's. */
  async agentsRunning(tenantId: string, configurationId: string): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT a.id FROM agents a JOIN configuration_versions v ON v.id = a.assigned_version_id
        WHERE a.tenant_id = $1 AND v.configuration_id = $2`,
      [tenantId, configurationId],
    );
    return rows.map((r) => r.id);
  }

  /** Whether the agent exists in the tenant (an intake credential of a forgotten agent admits nothing). */
  async agentExists(tenantId: string, agentId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM agents WHERE id = $1 AND tenant_id = $2`, [agentId, tenantId]);
    return rows.length > 0;
  }

  /** The intake key: made once, by whichever instance asks first. */
  async intakeKey(): Promise<Buffer> {
    await this.dataSource.query(`INSERT INTO agent_telemetry_keys (id, key) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`, [randomBytes(32)]);
    const rows: Array<{ key: Buffer }> = await this.dataSource.query(`SELECT key FROM agent_telemetry_keys WHERE id = 1`);
    return rows[0]!.key;
  }

  /** Deletes buckets older than `before`; the number deleted. */
  async deleteBefore(before: Date): Promise<number> {
    const [, count] = (await this.dataSource.query(`DELETE FROM agent_telemetry_rollups WHERE bucket_start < $1`, [before])) as [unknown, number];
    return count ?? 0;
  }
}
