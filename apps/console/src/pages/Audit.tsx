import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { get, Page } from '../api/client';
import { AuditEvent } from '../api/types';
import { Loading } from '../components/Badge';
import { JsonDiff } from '../components/JsonDiff';
import { ProblemView } from '../components/ProblemView';
import { useUrlFilters } from '../lib/useUrlFilters';
import { useAuth } from '../auth/auth';

const TEXT_FILTERS = ['actor', 'action', 'entityType', 'entityId', 'since', 'until'] as const;
const FILTERS = [...TEXT_FILTERS, 'includeArchive'] as const;

/** The audit log with its filters in the URL, each event's before/after as a diff. */
export function AuditPage() {
  const [open, setOpen] = useState<string | null>(null);
  const { can } = useAuth();
  const { filters, cursor, key, apply, next, back, hasPrevious } = useUrlFilters(FILTERS);
  const events = useQuery({ queryKey: ['audit', filters, cursor], queryFn: () => get<Page<AuditEvent>>('/api/audit/events', { ...filters, cursor, limit: 50 }), placeholderData: keepPreviousData });
  return (
    <>
      <h1>Audit log</h1>
      <form className="filters panel" onSubmit={apply} aria-label="Filter audit events" key={key}>
        {TEXT_FILTERS.map((f) => (
          <label key={f}>
            {f === 'entityType' ? 'Entity type' : f === 'entityId' ? 'Entity id' : f[0]!.toUpperCase() + f.slice(1)}
            <input name={f} defaultValue={filters[f]} placeholder={f === 'since' || f === 'until' ? '2026-01-01T00:00:00Z' : undefined} />
          </label>
        ))}
        {can('Admin') ? (
          <label className="check">
            <input type="checkbox" name="includeArchive" value="true" defaultChecked={filters.includeArchive === 'true'} />
            Include the archive (this read is audited)
          </label>
        ) : null}
        <button type="submit" className="primary">
          Apply filters
        </button>
      </form>
      <ProblemView error={events.error} />
      {events.isLoading ? <Loading /> : null}
      <table aria-label="Audit events">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Entity</th>
            <th scope="col">Action</th>
            <th scope="col">Change</th>
          </tr>
        </thead>
        <tbody>
          {events.data?.items.map((e) => (
            <FragmentRow key={e.id} e={e} open={open === e.id} toggle={() => setOpen(open === e.id ? null : e.id)} />
          ))}
        </tbody>
      </table>
      <nav className="pager" aria-label="Pages">
        <button type="button" disabled={!hasPrevious} onClick={back}>
          Previous page
        </button>
        <button type="button" disabled={!events.data?.nextCursor} onClick={() => events.data?.nextCursor && next(events.data.nextCursor)}>
          Next page
        </button>
      </nav>
    </>
  );
}

function FragmentRow({ e, open, toggle }: { e: AuditEvent; open: boolean; toggle: () => void }) {
  return (
    <>
      <tr>
        <td>{new Date(e.timestamp).toLocaleString()}</td>
        <td>
          {e.actor} {e.actorRole ? <span className="muted">({e.actorRole})</span> : null}
        </td>
        <td>
          {e.entityType} <code className="small">{e.entityId.slice(0, 8)}</code>
        </td>
        <td>
          {e.action} {(e as AuditEvent & { archived?: boolean }).archived ? <span className="badge">archived</span> : null}
        </td>
        <td>
          <button type="button" className="link" aria-expanded={open} onClick={toggle}>
            {open ? 'Hide' : 'Show'} before/after
          </button>
        </td>
      </tr>
      {open ? (
        <tr>
          <td colSpan={5}>
            <JsonDiff before={e.before} after={e.after} label={`${e.entityType} ${e.action}`} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
