import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router-dom';
import { get, Page } from '../api/client';
import { useLiveEvents } from '../api/live';
import { Counts, Rollout } from '../api/types';
import { Loading, StatusBadge } from '../components/Badge';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { ago, percent } from '../lib/format';
import { useNavigate } from 'react-router-dom';

/** Applied / failed / applying out of the total, as a bar with its numbers. */
export function Progress({ counts }: { counts: Counts }) {
  const done = percent(counts.applied, counts.total);
  return (
    <div className="progress">
      <div className="bar" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={done} aria-label={`${counts.applied} of ${counts.total} applied`}>
        <span className="bar-ok" style={{ width: `${done}%` }} />
        <span className="bar-warn" style={{ width: `${percent(counts.applying, counts.total)}%` }} />
        <span className="bar-bad" style={{ width: `${percent(counts.failed, counts.total)}%` }} />
      </div>
      <span className="small">
        {counts.applied}/{counts.total} applied
        {counts.applying ? `, ${counts.applying} applying` : ''}
        {counts.failed ? `, ${counts.failed} failed` : ''}
        {counts.skipped ? `, ${counts.skipped} skipped` : ''}
      </span>
    </div>
  );
}

const STATES = ['', 'Pending', 'InProgress', 'Paused', 'Completed', 'Failed', 'RolledBack'];

/** Rollouts of the tenant, filtered by state (in the URL), updated live. */
export function RolloutsPage() {
  const path = useTenantPath();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const state = params.get('state') ?? '';
  const list = useQuery({ queryKey: ['rollouts', 'list', state], queryFn: () => get<Page<Rollout>>('/api/rollouts', { state, limit: 50 }) });
  useLiveEvents(['rollout.'], () => void qc.invalidateQueries({ queryKey: ['rollouts', 'list'] }));
  return (
    <>
      <h1>Rollouts</h1>
      <div className="row">
        <label>
          State
          <select value={state} onChange={(e) => setParams(e.target.value ? { state: e.target.value } : {})}>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s || 'Any'}
              </option>
            ))}
          </select>
        </label>
        <Guarded role="Operator" className="primary" onClick={() => navigate(path('rollouts/new'))}>
          New rollout
        </Guarded>
      </div>
      <ProblemView error={list.error} />
      {list.isLoading ? <Loading /> : null}
      <table aria-label="Rollouts">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">State</th>
            <th scope="col">Strategy</th>
            <th scope="col">Progress</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((r) => (
            <tr key={r.id}>
              <td>
                <Link to={path(`rollouts/${r.id}`)}>{r.name}</Link>
                {r.kind === 'Rollback' ? <span className="badge">rollback</span> : null}
              </td>
              <td>
                <StatusBadge value={r.state} />
              </td>
              <td>
                {r.strategy.type} · step {r.currentStep === null ? '—' : r.currentStep + 1}/{r.stepCount}
              </td>
              <td>
                <Progress counts={r.counts} />
              </td>
              <td title={r.createdAt}>
                {ago(r.createdAt)} by {r.createdBy}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
