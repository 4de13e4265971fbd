import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { AMPORA_CONFIG, AmporaConfig, Clock } from '@ampora/platform';
import { AgentView, PushDenial, PushPath, PushTarget, PushTimeChecks } from '@ampora/governance';
import { capabilityNames } from '@ampora/opamp';
import { CONFIG_FILE_KEY } from '../configurations/domain/config-files';
import type { StoredConfigFiles, StoredPushDenial } from '../agents/entities/agent.entity';

/** The configuration a push sends: the same for every agent (a version, a raw assignment). */
export interface PushedConfig {
  files: StoredConfigFiles;
  hash: string;
  versionId: string | null;
}

export interface ScreenInput {
  tenantId: string;
  path: PushPath;
  agentIds: string[];
  /** Omitted: each agent's assigned config (force push, group assignment), one check per distinct config. */
  config?: PushedConfig;
  rolloutId?: string;
}

interface AgentRow {
  id: string;
  identifying_attributes: Record<string, unknown> | null;
  non_identifying_attributes: Record<string, unknown> | null;
  capabilities: string | null;
  labels: Record<string, unknown> | null;
  group_name: string | null;
  assigned_config_hash: string | null;
  assigned_version_id: string | null;
  effective_config_hash: string | null;
}

/**
 * Fleet's side of the push-time-check extension point (decision 0275): before any push, the agents
 * are screened by governance's `PushTimeChecks` in one call per distinct configuration — agents and
 * their current configurations are read in two statements and each distinct text is parsed once,
 * however many agents a push has. A denied agent's denial is stored on its row (`push_denial`); a
 * later allowed push clears it.
 */
@Injectable()
export class PushGate {
  constructor(
    private readonly dataSource: DataSource,
    private readonly checks: PushTimeChecks,
    private readonly clock: Clock,
    @Inject(AMPORA_CONFIG) private readonly config: AmporaConfig,
  ) {}

  /** The agents of `agentIds` whose push is denied, by id (absent: may be pushed). */
  async screen(input: ScreenInput): Promise<Map<string, PushDenial>> {
    const denied = new Map<string, PushDenial>();
    const ids = [...new Set(input.agentIds)];
    if (ids.length === 0) return denied;
    const rows: AgentRow[] = await this.dataSource.query(
      `SELECT a.id, a.identifying_attributes, a.non_identifying_attributes, a.capabilities::text AS capabilities, a.labels, g.name AS group_name,
              a.assigned_config_hash, a.assigned_version_id, a.effective_config_hash
       FROM agents a LEFT JOIN groups g ON g.id = a.group_id WHERE a.tenant_id = $1 AND a.id = ANY($2::uuid[])`,
      [input.tenantId, ids],
    );
    const current = await this.configsByHash('effective_config', rows);
    const pushes = new Map<string, { config: unknown; versionId: string | null; targets: PushTarget[] }>();
    if (input.config) pushes.set(input.config.hash, { config: this.parseFiles(input.config.files), versionId: input.config.versionId, targets: [] });
    else {
      const assigned = await this.configsByHash('assigned_config', rows);
      for (const r of rows) {
        const hash = r.assigned_config_hash?.trim();
        if (hash && !pushes.has(hash)) pushes.set(hash, { config: assigned.get(hash), versionId: r.assigned_version_id, targets: [] });
      }
    }
    for (const r of rows) {
      const hash = input.config ? input.config.hash : r.assigned_config_hash?.trim();
      const push = hash ? pushes.get(hash) : undefined;
      if (!push) continue; // nothing assigned: nothing is pushed to it
      const effective = r.effective_config_hash?.trim();
      push.targets.push({ agent: agentView(r), ...(effective && current.has(effective) ? { currentConfig: current.get(effective) } : {}) });
    }
    for (const push of pushes.values()) {
      if (push.targets.length === 0) continue;
      const result = await this.checks.check({ tenantId: input.tenantId, path: input.path, config: push.config, targets: push.targets, ...(push.versionId ? { versionId: push.versionId } : {}), ...(input.rolloutId ? { rolloutId: input.rolloutId } : {}) });
      for (const [agentId, d] of result.denied) denied.set(agentId, d);
    }
    await this.record(input, rows.map((r) => r.id), denied);
    return denied;
  }

  /** Stores each denial on its agent and clears the denial of agents this push allowed (two statements). */
  private async record(input: ScreenInput, agentIds: string[], denied: Map<string, PushDenial>): Promise<void> {
    const at = this.clock.now().toISOString();
    if (denied.size) {
      const entries = [...denied];
      const stored = entries.map(([, d]): StoredPushDenial => ({ check: d.check, policyId: d.policyId, policyName: d.policyName, reason: d.reason, path: input.path, versionId: input.config?.versionId ?? null, rolloutId: input.rolloutId ?? null, at }));
      await this.dataSource.query(`UPDATE agents SET push_denial = v.denial FROM unnest($1::uuid[], $2::jsonb[]) AS v(id, denial) WHERE agents.id = v.id`, [entries.map(([id]) => id), stored.map((s) => JSON.stringify(s))]);
    }
    const allowed = agentIds.filter((id) => !denied.has(id));
    if (allowed.length) await this.dataSource.query(`UPDATE agents SET push_denial = NULL WHERE id = ANY($1::uuid[]) AND push_denial IS NOT NULL`, [allowed]);
  }

  /**
   * One parsed configuration per distinct hash: the body is read from one agent holding each hash
   * (picked from the rows already read), so 10,000 agents on one config read and parse one body.
   */
  private async configsByHash(column: 'effective_config' | 'assigned_config', rows: AgentRow[]): Promise<Map<string, unknown>> {
    const holder = new Map<string, string>();
    for (const r of rows) {
      const hash = (column === 'effective_config' ? r.effective_config_hash : r.assigned_config_hash)?.trim();
      if (hash && !holder.has(hash)) holder.set(hash, r.id);
    }
    if (holder.size === 0) return new Map();
    const bodies: Array<{ id: string; files: StoredConfigFiles | null }> = await this.dataSource.query(`SELECT id, ${column} AS files FROM agents WHERE id = ANY($1::uuid[])`, [[...holder.values()]]);
    const byId = new Map(bodies.map((b) => [b.id, b.files]));
    return new Map([...holder].map(([hash, id]) => {
      const files = byId.get(id);
      return [hash, files ? this.parseFiles(files) : undefined];
    }));
  }

  /** The main config file, parsed (an unreadable one is undefined: policies fail closed on it). */
  parseFiles(files: StoredConfigFiles): unknown {
    const main = files[CONFIG_FILE_KEY] ?? Object.values(files)[0];
    if (!main) return undefined;
    const text = Buffer.from(main.body, 'base64').toString('utf8');
    if (Buffer.byteLength(text) > this.config.limits.configMaxBytes) return undefined;
    try {
      return parse(text, { maxAliasCount: this.config.limits.configMaxAliases });
    } catch {
      return undefined;
    }
  }
}

export function agentView(r: Pick<AgentRow, 'id' | 'identifying_attributes' | 'non_identifying_attributes' | 'capabilities' | 'labels' | 'group_name'>): AgentView {
  return {
    id: r.id,
    description: { ...(r.non_identifying_attributes ?? {}), ...(r.identifying_attributes ?? {}) },
    capabilities: capabilityNames(BigInt(r.capabilities ?? '0')),
    group: r.group_name ?? null,
    labels: r.labels ?? {},
  };
}
