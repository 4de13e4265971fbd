import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { get, Page, post } from '../api/client';
import { AgentSummary, Group } from '../api/types';
import { Loading, StatusBadge } from '../components/Badge';
import { BulkAssign } from '../components/BulkAssign';
import { Confirm } from '../components/Confirm';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { ago, labelsText } from '../lib/format';
import { useUrlFilters } from '../lib/useUrlFilters';

const FILTERS = ['status', 'health', 'groupId', 'label', 'text', 'includeFederation'] as const;
const PAGE_SIZE = 50;

/** How each federation peer answered a federated list (GET /api/agents?includeFederation=true). */
export interface PeerListStatus {
  peer: string;
  status: 'ok' | 'slow' | 'down';
  reason?: string;
  durationMs: number;
  items: number;
}
type AgentPage = Page<AgentSummary & { peer?: string | null }> & { federation?: { included: true; peers: PeerListStatus[] } };

type Bulk = { action: 'move' | 'force-push' | 'disconnect' | 'revoke-cert'; groupId?: string | null };

export function useGroups() {
  return useQuery({ queryKey: ['groups', 'all'], queryFn: () => get<Page<Group>>('/api/groups', { limit: 200 }), staleTime: 30_000 });
}

/** The agent list: server-side pages and filters, all in the URL; bulk actions with a confirmation. */
export function FleetPage() {
  const path = useTenantPath();
  const qc = useQueryClient();
  const { filters, cursor, key, apply, next, back, hasPrevious } = useUrlFilters(FILTERS);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulk, setBulk] = useState<Bulk | null>(null);
  const [moveTo, setMoveTo] = useState('');
  const groups = useGroups();
  const agents = useQuery({
    queryKey: ['agents', 'list', filters, cursor],
    queryFn: () => get<AgentPage>('/api/agents', { ...filters, cursor, limit: PAGE_SIZE }),
    placeholderData: keepPreviousData,
  });
  const run = useMutation({
    mutationFn: (b: Bulk) => {
      const agentIds = [...selected];
      if (b.action === 'move') return post('/api/agents/bulk/move', { agentIds, groupId: b.groupId ?? null });
      if (b.action === 'revoke-cert') return post('/api/agents/bulk/revoke-cert', { agentIds, reason: 'cessationOfOperation' });
      return post(`/api/agents/bulk/${b.action}`, { agentIds });
    },
    onSuccess: () => {
      setBulk(null);
      setSelected(new Set());
      void qc.invalidateQueries({ queryKey: ['agents'] });
    },
  });

  const items = agents.data?.items ?? [];
  const federation = agents.data?.federation;
  // a peer's agents are listed, never acted on from here: bulk actions take this deployment's only
  const local = items.filter((a) => !a.peer);
  const groupName = (id: string | null) => (id ? groups.data?.items.find((g) => g.id === id)?.name ?? id.slice(0, 8) : '—');
  const toggle = (id: string) => setSelected((s) => (s.has(id) ? (s.delete(id), new Set(s)) : new Set(s.add(id))));
  const count = selected.size;
  const noun = `${count} agent${count === 1 ? '' : 's'}`;
  return (
    <>
      <h1>Fleet</h1>
      <form className="filters panel" onSubmit={apply} aria-label="Filter agents" key={key}>
        <label>
          Status
          <select name="status" defaultValue={filters.status}>
            <option value="">Any</option>
            <option value="connected">Connected</option>
            <option value="stale">Stale</option>
            <option value="disconnected">Disconnected</option>
          </select>
        </label>
        <label>
          Health
          <select name="health" defaultValue={filters.health}>
            <option value="">Any</option>
            <option value="healthy">Healthy</option>
            <option value="unhealthy">Unhealthy</option>
            <option value="unknown">Unknown</option>
          </select>
        </label>
        <label>
          Group
          <select name="groupId" defaultValue={filters.groupId}>
            <option value="">Any</option>
            <option value="none">No group</option>
            {groups.data?.items.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Label
          <input name="label" placeholder="env=prod" defaultValue={filters.label} pattern="[^=]+=.*" title="key=value" />
        </label>
        <label>
          Search
          <input name="text" type="search" placeholder="name, type, uid, labels" defaultValue={filters.text} />
        </label>
        <label className="check">
          <input type="checkbox" name="includeFederation" value="true" defaultChecked={filters.includeFederation === 'true'} />
          Include federation peers
        </label>
        <button type="submit" className="primary">
          Apply filters
        </button>
      </form>
      <ProblemView error={agents.error} />
      {federation ? <FederationStatus peers={federation.peers} /> : null}
      <div className="toolbar" aria-label="Bulk actions" role="group">
        <span>{count ? `${noun} selected` : 'Select agents for bulk actions'}</span>
        <label>
          <span className="sr-only">Move to group</span>
          <select value={moveTo} onChange={(e) => setMoveTo(e.target.value)} aria-label="Group to move to">
            <option value="">Move to…</option>
            <option value="none">No group</option>
            {groups.data?.items
              .filter((g) => g.kind === 'Static')
              .map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name}
                </option>
              ))}
          </select>
        </label>
        <Guarded role="Operator" disabled={!count || !moveTo} onClick={() => setBulk({ action: 'move', groupId: moveTo === 'none' ? null : moveTo })}>
          Move
        </Guarded>
        <Guarded role="Operator" disabled={!count} onClick={() => setBulk({ action: 'force-push' })}>
          Force push
        </Guarded>
        <Guarded role="Operator" disabled={!count} onClick={() => setBulk({ action: 'disconnect' })}>
          Disconnect
        </Guarded>
        <Guarded role="Operator" disabled={!count || count > 1000} onClick={() => setBulk({ action: 'revoke-cert' })}>
          Revoke certificates
        </Guarded>
        <BulkAssign target={{ kind: 'agents', ids: [...selected] }} onDone={() => setSelected(new Set())} />
      </div>
      {bulk ? (
        <Confirm
          title={
            bulk.action === 'move'
              ? `Move ${noun} to ${bulk.groupId ? groupName(bulk.groupId) : 'no group'}?`
              : bulk.action === 'force-push'
                ? `Force-push the assigned config to ${noun}?`
                : bulk.action === 'revoke-cert'
                  ? `Revoke the certificates of ${noun} and close their sessions?`
                  : `Disconnect ${noun}?`
          }
          typed={bulk.action === 'revoke-cert' ? 'confirm' : undefined}
          busy={run.isPending}
          onConfirm={() => run.mutate(bulk)}
          onCancel={() => setBulk(null)}
        >
          <ProblemView error={run.error} />
        </Confirm>
      ) : null}
      {agents.isLoading ? <Loading what="Loading agents" /> : null}
      <table aria-label="Agents">
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select every agent on this page"
                checked={local.length > 0 && local.every((a) => selected.has(a.id))}
                onChange={(e) => setSelected(e.target.checked ? new Set(local.map((a) => a.id)) : new Set())}
              />
            </th>
            <th scope="col">Agent</th>
            <th scope="col">Status</th>
            <th scope="col">Health</th>
            <th scope="col">Config</th>
            <th scope="col">Drift</th>
            <th scope="col">Group</th>
            <th scope="col">Labels</th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id}>
              <td>
                {a.peer ? null : <input type="checkbox" aria-label={`Select ${a.displayName}`} checked={selected.has(a.id)} onChange={() => toggle(a.id)} />}
              </td>
              <td>
                {a.peer ? (
                  <>
                    {a.displayName} <span className="badge">peer {a.peer}</span>
                  </>
                ) : (
                  <Link to={path(`fleet/${a.id}`)}>{a.displayName}</Link>
                )}
                <div className="muted small">
                  {a.agentType} {a.agentVersion}
                </div>
              </td>
              <td>
                <StatusBadge value={a.status} />
              </td>
              <td>
                <StatusBadge value={a.healthy} />
              </td>
              <td>{a.remoteConfigStatus ?? '—'}</td>
              <td>{a.drift === true ? <span className="badge badge-drift">drift</span> : a.drift === false ? 'in sync' : 'unknown'}</td>
              <td>{a.peer ? '—' : groupName(a.groupId)}</td>
              <td className="small">{labelsText(a.labels)}</td>
              <td title={a.lastSeenAt ?? ''}>{ago(a.lastSeenAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {agents.data && items.length === 0 ? <p className="muted">No agent matches.</p> : null}
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={!hasPrevious} onClick={back}>
          Previous page
        </button>
        <button type="button" disabled={!agents.data?.nextCursor} onClick={() => agents.data?.nextCursor && next(agents.data.nextCursor)}>
          Next page
        </button>
      </nav>
    </>
  );
}

/** The "Includes federation" badge and how each peer answered (a slow or down peer says why). */
export function FederationStatus({ peers }: { peers: PeerListStatus[] }) {
  return (
    <div className="panel federation-status" role="status" aria-label="Federation">
      <span className="badge badge-federation">Includes federation</span>{' '}
      {peers.length === 0 ? (
        <span className="muted">No active peer: this deployment's agents only.</span>
      ) : (
        <ul className="plain inline">
          {peers.map((p) => (
            <li key={p.peer}>
              <strong>{p.peer}</strong>: <StatusBadge value={p.status} /> {p.items} agent{p.items === 1 ? '' : 's'} on this page, {p.durationMs} ms
              {p.reason ? <span className="muted"> ({p.reason})</span> : null}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
