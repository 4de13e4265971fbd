import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { get, Page, post } from '../api/client';
import { Guarded } from '../components/Guarded';
import { ListTable } from '../components/ListTable';
import { ProblemView } from '../components/ProblemView';
import { RowAction } from '../components/RowAction';
import { useAuth } from '../auth/auth';

interface DryRun {
  outcome?: string;
  evaluations?: Array<{ policyName: string; outcome: string; reason: string | null }>;
  [key: string]: unknown;
}

/** Policies (created by Admins, then approved), and a dry run of a configuration against the active ones. */
export function PoliciesPage() {
  const qc = useQueryClient();
  const { can } = useAuth();
  const [name, setName] = useState('');
  const [expression, setExpression] = useState('');
  const [yaml, setYaml] = useState('');
  const [policyId, setPolicyId] = useState('');
  const policies = useQuery({ queryKey: ['list', '/api/policies'], queryFn: () => get<Page<{ id: string; name: string }>>('/api/policies', { limit: 100 }) });
  const create = useMutation({
    mutationFn: () => post('/api/policies', { name: name.trim(), expression }),
    onSuccess: () => {
      setName('');
      setExpression('');
      void qc.invalidateQueries({ queryKey: ['list', '/api/policies'] });
    },
  });
  const dryRun = useMutation({ mutationFn: () => post<DryRun>(`/api/policies/${policyId}/evaluate`, { yaml }) });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <>
      <h1>Policies</h1>
      <ListTable
        title="Policies"
        url="/api/policies"
        empty="No custom policy."
        columns={[
          ['name', 'Name'],
          ['status', 'Status'],
          ['expression', 'Expression'],
          ['createdBy', 'Created by'],
          ['activatedAt', 'Active since'],
        ]}
        actions={(row) => <PolicyActions id={String(row.id)} name={String(row.name)} status={String(row.status)} />}
      />
      {can('Admin') ? (
        <form className="panel" onSubmit={submit} aria-labelledby="new-policy">
          <h2 id="new-policy">New policy (Admin)</h2>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required />
          </label>
          <label>
            Expression
            <textarea value={expression} onChange={(e) => setExpression(e.target.value)} rows={3} spellCheck={false} required />
          </label>
          <Guarded role="Admin" type="submit" className="primary" disabled={create.isPending}>
            Create draft policy
          </Guarded>
          <ProblemView error={create.error} />
        </form>
      ) : null}
      <section className="panel" aria-labelledby="dry-run">
        <h2 id="dry-run">Dry run</h2>
        <label>
          Policy
          <select value={policyId} onChange={(e) => setPolicyId(e.target.value)}>
            <option value="">Choose…</option>
            {policies.data?.items.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Configuration YAML to check
          <textarea value={yaml} onChange={(e) => setYaml(e.target.value)} rows={6} spellCheck={false} />
        </label>
        <Guarded role="Operator" disabled={!yaml.trim() || !policyId || dryRun.isPending} onClick={() => dryRun.mutate()}>
          Evaluate
        </Guarded>
        <ProblemView error={dryRun.error} />
        {dryRun.data ? <pre className="small">{JSON.stringify(dryRun.data, null, 2)}</pre> : null}
      </section>
    </>
  );
}

/**
 * What an Admin can do with a policy in its status: submit a draft or disabled policy for approval,
 * approve or reject a pending one (another Admin than the submitter: the API refuses self-approval),
 * disable any that is not disabled.
 */
export function policyActions(status: string): Array<'submit' | 'approve' | 'reject' | 'disable'> {
  const out: Array<'submit' | 'approve' | 'reject' | 'disable'> = [];
  if (status === 'Draft' || status === 'Disabled') out.push('submit');
  if (status === 'PendingApproval') out.push('approve', 'reject');
  if (status !== 'Disabled') out.push('disable');
  return out;
}

const ACTION_LABEL = { submit: 'Submit for approval', approve: 'Approve', reject: 'Reject', disable: 'Disable' } as const;

function PolicyActions({ id, name, status }: { id: string; name: string; status: string }) {
  return (
    <>
      {policyActions(status).map((a) => (
        <RowAction
          key={a}
          label={ACTION_LABEL[a]}
          role="Admin"
          confirm={a === 'approve' ? `Approve policy ${name}? It applies to every push from now on.` : a === 'disable' ? `Disable policy ${name}?` : undefined}
          run={() => post(`/api/policies/${id}/${a}`)}
          invalidate={['/api/policies']}
        />
      ))}
    </>
  );
}
