import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router-dom';
import { get, Page, post } from '../api/client';
import { Approval } from '../api/types';
import { useAuth } from '../auth/auth';
import { Loading } from '../components/Badge';
import { Guarded } from '../components/Guarded';
import { JsonDiff } from '../components/JsonDiff';
import { ProblemView } from '../components/ProblemView';

/** The approvals inbox: each pending change with its diff; approve or reject (never your own). */
export function ApprovalsPage() {
  const qc = useQueryClient();
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? 'Pending';
  const [reason, setReason] = useState<Record<string, string>>({});
  const list = useQuery({ queryKey: ['approvals', status], queryFn: () => get<Page<Approval>>('/api/approvals', { status, limit: 50 }) });
  const decide = useMutation({
    mutationFn: ({ a, approve }: { a: Approval; approve: boolean }) =>
      approve ? post(`/api/approvals/${a.id}/approve`, { revision: a.revision }) : post(`/api/approvals/${a.id}/reject`, { revision: a.revision, reason: reason[a.id] ?? '' }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ['approvals'] }),
  });
  return (
    <>
      <h1>Approvals</h1>
      <label>
        Status
        <select value={status} onChange={(e) => setParams({ status: e.target.value })}>
          {['Pending', 'Approved', 'Rejected', 'Withdrawn'].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <ProblemView error={list.error ?? decide.error} />
      {list.isLoading ? <Loading /> : null}
      {list.data?.items.length === 0 ? <p className="muted">No {status.toLowerCase()} approvals.</p> : null}
      {list.data?.items.map((a) => {
        const mine = a.authors.some((x) => x.actor === me?.actor);
        return (
          <section key={a.id} className="panel" aria-label={a.title}>
            <h2>{a.title}</h2>
            <p className="muted">
              {a.subjectKind} · needs {a.requiredRole} · by {a.authors.map((x) => x.actor).join(', ')} · revision {a.revision}
            </p>
            <JsonDiff before={a.diff.before} after={a.diff.after} label={`Change of ${a.title}`} />
            {a.status === 'Pending' ? (
              <div className="row">
                <Guarded role={a.requiredRole as 'Operator' | 'Admin'} disabled={mine || decide.isPending} title={mine ? 'You authored this change' : undefined} onClick={() => decide.mutate({ a, approve: true })}>
                  Approve
                </Guarded>
                <label>
                  Reason
                  <input value={reason[a.id] ?? ''} onChange={(e) => setReason({ ...reason, [a.id]: e.target.value })} />
                </label>
                <Guarded role={a.requiredRole as 'Operator' | 'Admin'} disabled={mine || !reason[a.id]?.trim() || decide.isPending} onClick={() => decide.mutate({ a, approve: false })}>
                  Reject
                </Guarded>
              </div>
            ) : null}
          </section>
        );
      })}
    </>
  );
}
