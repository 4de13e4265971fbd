import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, get, Page, post, put } from '../api/client';
import { VersionSummary } from '../api/types';
import { useConfigurations } from '../pages/Configurations';
import { Confirm } from './Confirm';
import { Guarded } from './Guarded';
import { ProblemView } from './ProblemView';

export type AssignTarget = { kind: 'agents'; ids: string[] } | { kind: 'groups'; ids: string[]; names: Record<string, string> };

interface AgentsResult {
  agents: number;
  changed: number;
  dispatch: { deniedByPolicy?: Array<{ agentId: string; policyName: string; reason: string }>; notAcceptingRemoteConfigCount?: number };
}
interface GroupsResult {
  assigned: string[];
  failed: Array<{ id: string; error: unknown }>;
}

export function countNoun(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/**
 * Bulk assignment: one Published configuration version for the selected agents (one request,
 * `POST /api/agents/bulk/assign`, one audit event) or the selected groups (their assignment, one
 * request per group, each reported), after a confirmation that names the count.
 */
export function BulkAssign({ target, onDone }: { target: AssignTarget; onDone?: () => void }) {
  const qc = useQueryClient();
  const configurations = useConfigurations();
  const [configurationId, setConfigurationId] = useState('');
  const [version, setVersion] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const versions = useQuery({
    queryKey: ['configurations', configurationId, 'versions'],
    queryFn: () => get<Page<VersionSummary>>(`/api/configurations/${configurationId}/versions`, { limit: 100 }),
    enabled: !!configurationId,
  });
  const published = (versions.data?.items ?? []).filter((v) => v.status === 'Published');
  const count = target.ids.length;
  const noun = countNoun(count, target.kind === 'agents' ? 'agent' : 'group');
  const configName = configurations.data?.items.find((c) => c.id === configurationId)?.name ?? '';

  const run = useMutation({
    mutationFn: async (): Promise<string> => {
      const ref = { configurationId, version: Number(version) };
      if (target.kind === 'agents') {
        const r = await post<AgentsResult>('/api/agents/bulk/assign', { agentIds: target.ids, ...ref });
        const denied = r.dispatch.deniedByPolicy?.length ?? 0;
        return `Assigned ${configName} v${version} to ${countNoun(r.agents, 'agent')} (${r.changed} changed)${denied ? `; a policy kept ${denied} from being pushed` : ''}.`;
      }
      const result: GroupsResult = { assigned: [], failed: [] };
      for (const id of target.ids) {
        try {
          await put(`/api/groups/${id}/assignment`, ref);
          result.assigned.push(id);
        } catch (error) {
          result.failed.push({ id, error });
        }
      }
      if (result.failed.length) {
        const first = result.failed[0]!;
        const why = first.error instanceof ApiError ? first.error : null;
        throw new ApiError({
          title: `${result.failed.length} of ${count} groups were not assigned (${result.assigned.length} were)`,
          status: why?.status ?? 0,
          detail: `${result.failed.map((f) => target.names[f.id] ?? f.id).join(', ')}: ${why?.message ?? String(first.error)}`,
          code: why?.code,
        });
      }
      return `Assigned ${configName} v${version} to ${countNoun(result.assigned.length, 'group')}.`;
    },
    onSuccess: (message) => {
      setConfirming(false);
      setOutcome(message);
      onDone?.();
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: ['agents'] });
      void qc.invalidateQueries({ queryKey: ['groups'] });
    },
  });

  return (
    <div className="row bulk-assign" role="group" aria-label="Assign a configuration version">
      <label>
        <span className="sr-only">Configuration to assign</span>
        <select aria-label="Configuration to assign" value={configurationId} onChange={(e) => (setConfigurationId(e.target.value), setVersion(''))}>
          <option value="">Configuration…</option>
          {configurations.data?.items.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="sr-only">Version to assign</span>
        <select aria-label="Version to assign" value={version} onChange={(e) => setVersion(e.target.value)} disabled={!configurationId}>
          <option value="">Version…</option>
          {published.map((v) => (
            <option key={v.id} value={String(v.number)}>
              v{v.number}
            </option>
          ))}
        </select>
      </label>
      <Guarded role="Operator" disabled={!count || !version || count > 5000} onClick={() => (setOutcome(null), run.reset(), setConfirming(true))}>
        Assign to selected
      </Guarded>
      {outcome ? (
        <span role="status" className="muted">
          {outcome}
        </span>
      ) : null}
      {confirming ? (
        <Confirm title={`Assign ${configName} v${version} to ${noun}?`} busy={run.isPending} onConfirm={() => run.mutate()} onCancel={() => setConfirming(false)}>
          <p className="small muted">
            {target.kind === 'agents'
              ? 'Each agent gets this version as its own assignment, which wins over its group\'s until it is cleared; agents whose config changes are pushed now.'
              : 'Each group gets this version; its members without their own assignment are pushed now.'}
          </p>
          <ProblemView error={run.error} />
        </Confirm>
      ) : null}
    </div>
  );
}
