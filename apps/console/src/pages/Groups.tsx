import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { post, put } from '../api/client';
import { AgentSummary } from '../api/types';
import { BulkAssign } from '../components/BulkAssign';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { useDebounced } from '../lib/useDebounced';
import { useConfigurations } from './Configurations';
import { useGroups } from './Fleet';

interface Preview {
  evaluated: number;
  matched: number;
  complete: boolean;
  agents: AgentSummary[];
  failedClosed: { missing: number; type: number; deadline: number };
}

/** Which agents a selector matches, asked as you type (nothing is saved). */
export function SelectorPreview({ selector }: { selector: string }) {
  const path = useTenantPath();
  const s = useDebounced(selector.trim());
  const preview = useQuery({ queryKey: ['groups', 'preview', s], queryFn: () => post<Preview>('/api/groups/preview', { selector: s, limit: 10 }), enabled: s.length > 0, retry: false });
  if (!s) return null;
  if (preview.error) return <ProblemView error={preview.error} />;
  if (!preview.data) return <p className="muted">Matching…</p>;
  const p = preview.data;
  return (
    <div role="status" aria-live="polite" className="preview">
      <p>
        <strong>{p.matched}</strong> of {p.evaluated} agents match{p.complete ? '' : ' (stopped at the time limit)'}.
        {p.failedClosed.missing + p.failedClosed.type ? ` ${p.failedClosed.missing + p.failedClosed.type} could not be judged (missing or mistyped values).` : ''}
      </p>
      <ul className="plain small">
        {p.agents.map((a) => (
          <li key={a.id}>
            <Link to={path(`fleet/${a.id}`)}>{a.displayName}</Link>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Static and dynamic groups; the selector editor previews its matches before saving. */
export function GroupsPage() {
  const qc = useQueryClient();
  const path = useTenantPath();
  const groups = useGroups();
  const configurations = useConfigurations();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'Static' | 'Dynamic'>('Static');
  const [selector, setSelector] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [assign, setAssign] = useState<{ groupId: string; configurationId: string; version: string } | null>(null);
  const create = useMutation({
    mutationFn: () => post('/api/groups', { name: name.trim(), kind, ...(kind === 'Dynamic' ? { selector } : {}) }),
    onSuccess: () => {
      setName('');
      setSelector('');
      void qc.invalidateQueries({ queryKey: ['groups'] });
    },
  });
  const setAssignment = useMutation({
    mutationFn: (a: { groupId: string; configurationId: string; version: string }) => put(`/api/groups/${a.groupId}/assignment`, { configurationId: a.configurationId, version: Number(a.version) }),
    onSuccess: () => {
      setAssign(null);
      void qc.invalidateQueries({ queryKey: ['groups'] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  const configName = (id: string) => configurations.data?.items.find((c) => c.id === id)?.name ?? id.slice(0, 8);
  return (
    <>
      <h1>Groups</h1>
      <form className="panel" onSubmit={submit} aria-labelledby="new-group">
        <h2 id="new-group">New group</h2>
        <div className="row">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label>
            Kind
            <select value={kind} onChange={(e) => setKind(e.target.value as 'Static' | 'Dynamic')}>
              <option>Static</option>
              <option>Dynamic</option>
            </select>
          </label>
        </div>
        {kind === 'Dynamic' ? (
          <>
            <label>
              Selector
              <textarea value={selector} onChange={(e) => setSelector(e.target.value)} rows={2} placeholder={'labels.env == "prod"'} spellCheck={false} />
            </label>
            <SelectorPreview selector={selector} />
          </>
        ) : null}
        <Guarded role="Operator" type="submit" className="primary" disabled={!name.trim() || create.isPending || (kind === 'Dynamic' && !selector.trim())}>
          Create group
        </Guarded>
        <ProblemView error={create.error} />
      </form>
      <ProblemView error={groups.error ?? setAssignment.error} />
      <div className="toolbar" role="group" aria-label="Bulk actions on groups">
        <span>{selected.size ? `${selected.size} group${selected.size === 1 ? '' : 's'} selected` : 'Select groups to assign a version to all of them'}</span>
        <BulkAssign
          target={{ kind: 'groups', ids: [...selected], names: Object.fromEntries((groups.data?.items ?? []).map((g) => [g.id, g.name])) }}
          onDone={() => setSelected(new Set())}
        />
      </div>
      <table aria-label="Groups">
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select every group"
                checked={!!groups.data?.items.length && groups.data.items.every((g) => selected.has(g.id))}
                onChange={(e) => setSelected(e.target.checked ? new Set(groups.data?.items.map((g) => g.id)) : new Set())}
              />
            </th>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Members</th>
            <th scope="col">Assigned configuration</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {groups.data?.items.map((g) => (
            <tr key={g.id}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Select ${g.name}`}
                  checked={selected.has(g.id)}
                  onChange={() => setSelected((s) => (s.has(g.id) ? (s.delete(g.id), new Set(s)) : new Set(s.add(g.id))))}
                />
              </td>
              <td>
                <Link to={path(`fleet?groupId=${g.id}`)}>{g.name}</Link>
                {g.selector ? <div className="small muted"><code>{g.selector}</code></div> : null}
              </td>
              <td>{g.kind}</td>
              <td>{g.memberCount}</td>
              <td>{g.assignment ? `${configName(g.assignment.configurationId)} v${g.assignment.version}` : '—'}</td>
              <td>
                {assign?.groupId === g.id ? (
                  <span className="row">
                    <select aria-label="Configuration" value={assign.configurationId} onChange={(e) => setAssign({ ...assign, configurationId: e.target.value })}>
                      <option value="">Configuration…</option>
                      {configurations.data?.items.map((c) => (
                        <option key={c.id} value={c.id}>
                          {c.name}
                        </option>
                      ))}
                    </select>
                    <input aria-label="Version" type="number" min={1} value={assign.version} onChange={(e) => setAssign({ ...assign, version: e.target.value })} />
                    <button type="button" className="primary" disabled={!assign.configurationId || !assign.version} onClick={() => setAssignment.mutate(assign)}>
                      Assign
                    </button>
                    <button type="button" onClick={() => setAssign(null)}>
                      Cancel
                    </button>
                  </span>
                ) : (
                  <Guarded role="Operator" onClick={() => setAssign({ groupId: g.id, configurationId: g.assignment?.configurationId ?? '', version: String(g.assignment?.version ?? '') })}>
                    Assign version
                  </Guarded>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
