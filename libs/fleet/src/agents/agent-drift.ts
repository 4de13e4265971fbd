import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { assessDrift, DriftAssessment, DriftInput, DriftVerdict } from './domain/config-drift';
import { AgentEntity, StoredConfigFiles } from './entities/agent.entity';

/** The text of a stored config map: files in name order, joined (what drift and diffs compare); null for none or an empty map. */
export function configText(files: StoredConfigFiles | null): string | null {
  if (!files || Object.keys(files).length === 0) return null;
  return Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, f]) => Buffer.from(f.body, 'base64').toString('utf8'))
    .join('\n');
}

/** What a drift verdict needs of an agent before any config is read. */
export interface DriftHashes {
  id: string;
  assignedConfigHash: string | null;
  assignedContentHash: string | null;
  effectiveConfigHash: string | null;
  remoteConfigHash: string | null;
  /** Over the configuration limits: never parsed, drift "unknown" (decision 0131). */
  effectiveConfigTooLarge?: boolean;
}

type DriftColumns = Pick<AgentEntity, 'assignedConfigHash' | 'assignedContentHash' | 'assignedConfig' | 'effectiveConfigHash' | 'effectiveConfig' | 'remoteConfigHash'> & { effectiveConfigTooLarge?: boolean };

/**
 * Whether the agent's effective config was too large to analyse: its drift is then "unknown". The one
 * place every view reads it (assessment, memo, rollout gates).
 */
function effectiveTooLarge(a: { effectiveConfigTooLarge?: boolean }): boolean {
  return a.effectiveConfigTooLarge === true;
}

export function driftInputOf(a: DriftColumns): DriftInput {
  return {
    assignedHash: a.assignedConfigHash?.trim() || null,
    assignedContentHash: a.assignedContentHash?.trim() || null,
    assignedText: configText(a.assignedConfig),
    effectiveContentHash: a.effectiveConfigHash?.trim() || null,
    effectiveText: configText(a.effectiveConfig),
    reportedHash: a.remoteConfigHash || null,
    effectiveTooLarge: effectiveTooLarge(a),
  };
}

/** The full assessment of one agent (the drift view). */
export function agentDrift(a: DriftColumns): DriftAssessment {
  return assessDrift(driftInputOf(a));
}

/**
 * Drift verdicts, memoised by (assigned content, effective content): a fleet runs few distinct pairs,
 * so lists and the rollout engine parse each pair once. The reported-hash rule needs no parsing and is
 * checked first; it gives the same answer as assessDrift.
 */
export class DriftMemo {
  private readonly memo = new Map<string, DriftVerdict>();

  constructor(private readonly max = 5000) {}

  /** The verdict from hashes alone, or undefined when the contents must be compared. */
  quick(a: Pick<AgentEntity, 'assignedConfigHash' | 'assignedContentHash' | 'effectiveConfigHash' | 'remoteConfigHash'> & { effectiveConfigTooLarge?: boolean }): DriftVerdict | undefined {
    const assigned = a.assignedConfigHash?.trim().toLowerCase();
    if (!assigned || !a.assignedContentHash) return 'unknown';
    const reported = a.remoteConfigHash?.trim().toLowerCase();
    if (reported && reported !== assigned) return true;
    if (!a.effectiveConfigHash || effectiveTooLarge(a)) return 'unknown';
    if (a.effectiveConfigHash.trim() === a.assignedContentHash.trim()) return false;
    return this.memo.get(DriftMemo.key(a));
  }

  verdict(a: DriftColumns): DriftVerdict {
    const quick = this.quick(a);
    if (quick !== undefined) return quick;
    const verdict = agentDrift(a).drift;
    this.remember(a, verdict);
    return verdict;
  }

  remember(a: Pick<AgentEntity, 'assignedContentHash' | 'effectiveConfigHash'>, verdict: DriftVerdict): void {
    if (this.memo.size >= this.max) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(DriftMemo.key(a), verdict);
  }

  static key(a: Pick<AgentEntity, 'assignedContentHash' | 'effectiveConfigHash'>): string {
    return `${a.assignedContentHash?.trim()}|${a.effectiveConfigHash?.trim()}`;
  }
}

/** One memo per process: every view of drift shares it. */
export const DRIFT_MEMO = new DriftMemo();

/** Drift verdicts of many agents for the rollout engine (configs are read only for pairs not yet seen). */
@Injectable()
export class AgentDriftService {
  constructor(private readonly dataSource: DataSource) {}

  /** `semanticOnly`: leave the reported-hash rule out (the rollout engine judges reports with their time). */
  async verdicts(agentIds: string[], options: { semanticOnly?: boolean } = {}): Promise<Map<string, DriftVerdict>> {
    if (agentIds.length === 0) return new Map();
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT id, assigned_config_hash, assigned_content_hash, effective_config_hash, effective_config_too_large, remote_config_hash FROM agents WHERE id = ANY($1::uuid[])`,
      [agentIds],
    );
    return this.verdictsOf(rows.map((r) => ({ id: r.id!, assignedConfigHash: r.assigned_config_hash, assignedContentHash: r.assigned_content_hash, effectiveConfigHash: r.effective_config_hash, effectiveConfigTooLarge: r.effective_config_too_large === true, remoteConfigHash: options.semanticOnly ? null : r.remote_config_hash })));
  }

  /** Verdicts for agents whose hashes the caller already read; configs are read only for pairs not seen yet. */
  async verdictsOf(rows: DriftHashes[]): Promise<Map<string, DriftVerdict>> {
    const out = new Map<string, DriftVerdict>();
    const misses = new Map<string, string>();
    for (const r of rows) {
      const quick = DRIFT_MEMO.quick(r);
      if (quick !== undefined) out.set(r.id, quick);
      else misses.set(DriftMemo.key(r), r.id);
    }
    if (misses.size === 0) return out;
    const full: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT id, assigned_config_hash, assigned_content_hash, assigned_config, effective_config_hash, effective_config, remote_config_hash FROM agents WHERE id = ANY($1::uuid[]) AND NOT effective_config_too_large`,
      [[...misses.values()]],
    );
    for (const f of full) {
      DRIFT_MEMO.verdict({
        assignedConfigHash: f.assigned_config_hash,
        assignedContentHash: f.assigned_content_hash,
        assignedConfig: f.assigned_config,
        effectiveConfigHash: f.effective_config_hash,
        effectiveConfig: f.effective_config,
        // the memo keeps the contents' verdict (the reported hash is judged before it is read)
        remoteConfigHash: null,
      });
    }
    for (const r of rows) if (!out.has(r.id)) out.set(r.id, DRIFT_MEMO.quick(r) ?? 'unknown');
    return out;
  }
}
