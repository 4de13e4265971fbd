import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { get, post } from '../api/client';
import { useLiveConnected, useLiveEvents } from '../api/live';
import { LiveEvent } from '../api/sse';
import { Counts, Rollout } from '../api/types';
import { Loading, StatusBadge } from '../components/Badge';
import { Confirm } from '../components/Confirm';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { ago } from '../lib/format';
import { useUrlFilters } from '../lib/useUrlFilters';
import { Progress } from './Rollouts';

type Action = 'pause' | 'resume' | 'advance' | 'abort' | 'rollback';

/** What the state allows (the engine's transition table; the API refuses anything else anyway). */
export function actionsFor(r: Pick<Rollout, 'state' | 'waitingFor' | 'startedAt'>): Action[] {
  switch (r.state) {
    case 'Pending':
      // it never started: aborting ends it and frees its group (a start waiting for an approval is withdrawn)
      return ['abort'];
    case 'InProgress':
      return r.waitingFor === 'advance' ? ['advance', 'pause', 'abort'] : ['pause', 'abort'];
    case 'Paused':
      return ['resume', 'abort'];
    case 'Failed':
      // a rollout that never started pushed nothing: nothing to roll back (the API answers 409 ROLLOUT_NEVER_STARTED)
      return r.startedAt === null ? [] : ['rollback'];
    default:
      return [];
  }
}

const GATE_LABEL: Record<string, string> = {
  applyFailedRatio: 'Apply failures',
  unhealthyRatio: 'Unhealthy',
  effectiveMismatchRatio: 'Effective mismatch',
  disconnectRatio: 'Disconnects',
};

/** One rollout, live: steps, targets by state, gates against thresholds, events; pause/resume/abort/rollback. */
export function RolloutPage() {
  const { id = '' } = useParams();
  const path = useTenantPath();
  const qc = useQueryClient();
  const live = useLiveConnected();
  const [events, setEvents] = useState<LiveEvent[]>([]);
  const [confirm, setConfirm] = useState<Action | null>(null);
  const rollout = useQuery({ queryKey: ['rollouts', id], queryFn: () => get<Rollout>(`/api/rollouts/${id}`), refetchInterval: live ? false : 5000 });
  useLiveEvents(['rollout.'], (e) => {
    if (e.entityId !== id) return;
    setEvents((list) => [e, ...list].slice(0, 50));
    void qc.invalidateQueries({ queryKey: ['rollouts', id] });
  });
  const act = useMutation({
    mutationFn: (a: Action) => post<Rollout>(`/api/rollouts/${id}/${a}`),
    onSuccess: () => {
      setConfirm(null);
      void qc.invalidateQueries({ queryKey: ['rollouts'] });
    },
  });
  if (rollout.error) return <ProblemView error={rollout.error} />;
  if (!rollout.data) return <Loading what="Loading the rollout" />;
  const r = rollout.data;
  return (
    <>
      <p>
        <Link to={path('rollouts')}>← Rollouts</Link>
      </p>
      <h1>
        {r.name} <StatusBadge value={r.state} />
      </h1>
      <p className="muted" aria-live="polite" data-testid="rollout-state">
        State: {r.state}
        {r.waitingFor ? ` · waiting for ${r.waitingFor}` : ''}
        {r.waitingFor === 'dwell' && r.dwellUntil ? ` until ${new Date(r.dwellUntil).toLocaleTimeString()}` : ''} · {live ? 'live' : 'polling'}
      </p>
      <section className="panel" aria-labelledby="progress-title">
        <h2 id="progress-title">Progress</h2>
        <Progress counts={r.counts} />
        <p>
          {r.strategy.type}, step {r.currentStep === null ? '—' : r.currentStep + 1} of {r.stepCount}, auto-advance {r.autoAdvance ? 'on' : 'off'}
        </p>
        <div className="row" role="group" aria-label="Rollout actions">
          {actionsFor(r).map((a) => (
            <Guarded key={a} role="Operator" onClick={() => (a === 'abort' || a === 'rollback' ? setConfirm(a) : act.mutate(a))} disabled={act.isPending}>
              {a[0]!.toUpperCase() + a.slice(1)}
            </Guarded>
          ))}
        </div>
        {confirm ? (
          <Confirm title={confirm === 'abort' ? (r.state === 'Pending' ? `Abort ${r.name}? It has not started: nothing was pushed, and a start waiting for an approval is withdrawn.` : `Abort ${r.name}? Agents already updated keep the new version.`) : `Roll back ${r.name} to what the agents ran before?`} onConfirm={() => act.mutate(confirm)} onCancel={() => setConfirm(null)} busy={act.isPending} />
        ) : null}
        <ProblemView error={act.error} />
      </section>
      <div className="grid2">
        <section className="panel" aria-labelledby="steps-title">
          <h2 id="steps-title">Steps</h2>
          <ol className="steps">
            {(r.steps ?? []).map((s) => (
              <li key={s.index}>
                Step {s.index + 1}: {s.agents} agents, {s.settledAt ? `settled ${ago(s.settledAt)}` : `started ${ago(s.startedAt)}`}
                <Progress counts={s.counts} />
              </li>
            ))}
          </ol>
          {!r.steps?.length ? <p className="muted">Not started.</p> : null}
        </section>
        <section className="panel" aria-labelledby="gates-title">
          <h2 id="gates-title">Gates</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Gate</th>
                <th scope="col">Threshold</th>
                <th scope="col">Last breach</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(GATE_LABEL).map(([k, label]) => (
                <tr key={k}>
                  <td>{label}</td>
                  <td>{r.gates[k] !== undefined ? `${Math.round(r.gates[k]! * 1000) / 10} %` : '—'}</td>
                  <td>{r.gate && r.gate.gate.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) === k ? `${Math.round(r.gate.observed * 1000) / 10} % (${r.gate.numerator}/${r.gate.denominator})` : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <RolloutTargets rolloutId={r.id} counts={r.counts} stepCount={r.stepCount} />
      <section className="panel" aria-labelledby="events-title">
        <h2 id="events-title">Live events</h2>
        <ul className="plain small" aria-live="polite">
          {events.map((e) => (
            <li key={e.id}>
              {e.at ? new Date(e.at).toLocaleTimeString() : ''} {e.type} {e.payload && 'to' in e.payload ? `→ ${String(e.payload.to)}` : ''}
            </li>
          ))}
        </ul>
        {!events.length ? <p className="muted">Events appear here as they happen.</p> : null}
      </section>
    </>
  );
}

export const TARGETS_PAGE = 200;
const TARGET_FILTERS = ['state', 'step'] as const;
type Target = NonNullable<Rollout['targets']>[number];

/** Every target of the rollout, a page of 200 at a time (GET …/targets with `after`), filtered by state and step in the URL. */
export function RolloutTargets({ rolloutId, counts, stepCount }: { rolloutId: string; counts: Counts; stepCount: number }) {
  const path = useTenantPath();
  const { filters, cursor, key, apply, next, back, hasPrevious } = useUrlFilters(TARGET_FILTERS);
  // under ['rollouts', id]: every live event of the rollout refetches the page shown
  const page = useQuery({
    queryKey: ['rollouts', rolloutId, 'targets', filters, cursor],
    queryFn: () => get<{ items: Target[]; nextAfter: number | null }>(`/api/rollouts/${rolloutId}/targets`, { state: filters.state, step: filters.step, after: cursor, limit: TARGETS_PAGE }),
    placeholderData: keepPreviousData,
  });
  const items = page.data?.items ?? [];
  const summary = (['pending', 'applying', 'applied', 'failed', 'skipped'] as const)
    .filter((s) => counts[s])
    .map((s) => `${counts[s]} ${s}`)
    .join(' · ');
  return (
    <section className="panel" aria-labelledby="targets-title">
      <h2 id="targets-title">Targets</h2>
      <p>{summary ? `${summary} of ${counts.total}` : 'None yet'}</p>
      <form className="filters" onSubmit={apply} aria-label="Filter targets" key={key}>
        <label>
          State
          <select name="state" defaultValue={filters.state}>
            <option value="">Any</option>
            {['Pending', 'Applying', 'Applied', 'Failed', 'Skipped'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Step
          <select name="step" defaultValue={filters.step}>
            <option value="">Any</option>
            {Array.from({ length: stepCount }, (_, i) => (
              <option key={i} value={String(i)}>
                {i + 1}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show targets</button>
      </form>
      <ProblemView error={page.error} />
      <table aria-label="Targets">
        <thead>
          <tr>
            <th scope="col">#</th>
            <th scope="col">Agent</th>
            <th scope="col">Step</th>
            <th scope="col">State</th>
            <th scope="col">Reason</th>
          </tr>
        </thead>
        <tbody>
          {items.map((t) => (
            <tr key={t.agentId}>
              <td>{t.position + 1}</td>
              <td>
                <Link to={path(`fleet/${t.agentId}`)}>{t.displayName}</Link>
              </td>
              <td>{t.step + 1}</td>
              <td>
                <StatusBadge value={t.state} />
              </td>
              <td>
                {t.deniedByPolicy ? `denied by ${t.deniedByPolicy.name}: ` : ''}
                {t.reason ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {page.data && items.length === 0 ? <p className="muted">No target matches.</p> : null}
      <nav className="pager" aria-label="Target pages">
        <button type="button" disabled={!hasPrevious} onClick={back}>
          Previous targets
        </button>
        <button type="button" disabled={page.data?.nextAfter === null || page.data?.nextAfter === undefined} onClick={() => page.data?.nextAfter != null && next(String(page.data.nextAfter))}>
          Next targets
        </button>
      </nav>
    </section>
  );
}
