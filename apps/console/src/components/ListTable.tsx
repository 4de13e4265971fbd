import { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { get, Page } from '../api/client';
import { Loading } from './Badge';
import { ProblemView } from './ProblemView';

export type Row = Record<string, unknown>;

const cell = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/**
 * A table of one list endpoint's items, showing the given fields, and `actions` per row when given
 * (their mutations invalidate `['list', url]` to refresh it).
 */
export function ListTable({ title, url, columns, empty, actions, children }: { title: string; url: string; columns: Array<[string, string]>; empty: string; actions?: (row: Row) => ReactNode; children?: ReactNode }) {
  const list = useQuery({ queryKey: ['list', url], queryFn: () => get<Page<Row>>(url, { limit: 100 }) });
  const items = Array.isArray(list.data?.items) ? list.data.items : undefined;
  return (
    <section className="panel" aria-label={title}>
      <h2>{title}</h2>
      {children}
      <ProblemView error={list.error} />
      {list.isLoading ? <Loading /> : null}
      {items?.length === 0 ? <p className="muted">{empty}</p> : null}
      {items?.length ? (
        <table aria-label={title}>
          <thead>
            <tr>
              {columns.map(([, label]) => (
                <th scope="col" key={label}>
                  {label}
                </th>
              ))}
              {actions ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((row, k) => (
              <tr key={String(row.id ?? k)}>
                {columns.map(([field]) => (
                  <td key={field} className={field === 'fingerprint' || field === 'expression' ? 'small mono' : undefined}>
                    {cell(row[field])}
                  </td>
                ))}
                {actions ? <td className="row-actions">{actions(row)}</td> : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
