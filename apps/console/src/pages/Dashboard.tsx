import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { get, Page } from '../api/client';
import { useLiveEvents } from '../api/live';
import { Approval, AuditEvent, Rollout } from '../api/types';
import { useAuth } from '../auth/auth';
import { Loading } from '../components/Badge';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { ago, percent } from '../lib/format';
import { Progress } from './Rollouts';

interface AgentCounts {
  total: number;
  connected: number;
  stale: number;
  disconnected: number;
  healthy: number;
  unhealthy: number;
  healthUnknown: number;
}

function Stat({ label, value, to }: { label: string; value: number | undefined; to?: string }) {
  const body = (
    <>
      <span className="stat-value">{value ?? '—'}</span>
      <span className="stat-label">{label}</span>
    </>
  );
  return <li className="stat">{to ? <Link to={to}>{body}</Link> : body}</li>;
}

/** Agents by status and health, active rollouts, recent audit events, approvals waiting for me. */
export function Dashboard() {
  const path = useTenantPath();
  const { me } = useAuth();
  const qc = useQueryClient();
  const counts = useQuery({ queryKey: ['agents', 'summary'], queryFn: () => get<AgentCounts>('/api/agents/summary'), refetchInterval: 15_000 });
  const active = useQuery({
    queryKey: ['rollouts', 'active'],
    queryFn: async () => {
      const [running, paused] = await Promise.all([get<Page<Rollout>>('/api/rollouts', { state: 'InProgress', limit: 10 }), get<Page<Rollout>>('/api/rollouts', { state: 'Paused', limit: 10 })]);
      // a rollout paused between the two reads is in both
      return [...new Map([...running.items, ...paused.items].map((r) => [r.id, r])).values()];
    },
  });
  const audit = useQuery({ queryKey: ['audit', 'recent'], queryFn: () => get<Page<AuditEvent>>('/api/audit/events', { limit: 10 }) });
  const approvals = useQuery({ queryKey: ['approvals', 'pending'], queryFn: () => get<Page<Approval>>('/api/approvals', { status: 'Pending', limit: 20 }) });
  useLiveEvents(['agent.'], () => void qc.invalidateQueries({ queryKey: ['agents', 'summary'] }));
  useLiveEvents(['rollout.'], () => void qc.invalidateQueries({ queryKey: ['rollouts', 'active'] }));
  const mine = (approvals.data?.items ?? []).filter((a) => !a.authors.some((x) => x.actor === me?.actor));
  const c = counts.data;
  return (
    <>
      <h1>Dashboard</h1>
      <section className="panel" aria-labelledby="agents-title">
        <h2 id="agents-title">Agents</h2>
        <ProblemView error={counts.error} />
        <ul className="stats">
          <Stat label="total" value={c?.total} to={path('fleet')} />
          <Stat label="connected" value={c?.connected} to={path('fleet?status=connected')} />
          <Stat label="stale" value={c?.stale} to={path('fleet?status=stale')} />
          <Stat label="disconnected" value={c?.disconnected} to={path('fleet?status=disconnected')} />
          <Stat label="healthy" value={c?.healthy} to={path('fleet?health=healthy')} />
          <Stat label="unhealthy" value={c?.unhealthy} to={path('fleet?health=unhealthy')} />
          <Stat label="health unknown" value={c?.healthUnknown} to={path('fleet?health=unknown')} />
        </ul>
        {c && c.total > 0 ? (
          <div className="bar" role="img" aria-label={`${percent(c.connected, c.total)} % connected`}>
            <span className="bar-ok" style={{ width: `${percent(c.connected, c.total)}%` }} />
            <span className="bar-warn" style={{ width: `${percent(c.stale, c.total)}%` }} />
          </div>
        ) : null}
      </section>
      <div className="grid2">
        <section className="panel" aria-labelledby="active-title">
          <h2 id="active-title">Active rollouts</h2>
          <ProblemView error={active.error} />
          {active.isLoading ? <Loading /> : null}
          {active.data?.length === 0 ? <p className="muted">No rollout is running.</p> : null}
          <ul className="plain">
            {active.data?.map((r) => (
              <li key={r.id}>
                <Link to={path(`rollouts/${r.id}`)}>{r.name}</Link> <span className="muted">{r.state}</span>
                <Progress counts={r.counts} />
              </li>
            ))}
          </ul>
        </section>
        <section className="panel" aria-labelledby="approvals-title">
          <h2 id="approvals-title">Approvals waiting for me</h2>
          <ProblemView error={approvals.error} />
          {approvals.data && mine.length === 0 ? <p className="muted">Nothing waits for your approval.</p> : null}
          <ul className="plain">
            {mine.map((a) => (
              <li key={a.id}>
                <Link to={path(`approvals?id=${a.id}`)}>{a.title}</Link> <span className="muted">needs {a.requiredRole}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section className="panel" aria-labelledby="audit-title">
        <h2 id="audit-title">Recent changes</h2>
        <ProblemView error={audit.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
            </tr>
          </thead>
          <tbody>
            {audit.data?.items.map((e) => (
              <tr key={e.id}>
                <td title={e.timestamp}>{ago(e.timestamp)}</td>
                <td>{e.actor}</td>
                <td>
                  {e.entityType} {e.action}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <Link to={path('audit')}>The whole audit log</Link>
      </section>
    </>
  );
}
