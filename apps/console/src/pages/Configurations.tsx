import { FormEvent, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router-dom';
import { get, Page, post } from '../api/client';
import { Configuration } from '../api/types';
import { Loading } from '../components/Badge';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ProblemView } from '../components/ProblemView';
import { ago } from '../lib/format';

export function useConfigurations() {
  return useQuery({ queryKey: ['configurations', 'all'], queryFn: () => get<Page<Configuration>>('/api/configurations', { limit: 200 }) });
}

/** The configurations of the tenant, and creating one. */
export function ConfigurationsPage() {
  const path = useTenantPath();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const list = useConfigurations();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: (n: string) => post<Configuration>('/api/configurations', { name: n }),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ['configurations'] });
      navigate(path(`configurations/${c.id}?edit=1`));
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate(name.trim());
  }
  return (
    <>
      <h1>Configurations</h1>
      <form className="panel row" onSubmit={submit} aria-label="New configuration">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        </label>
        <Guarded role="Operator" type="submit" className="primary" disabled={!name.trim() || create.isPending}>
          Create configuration
        </Guarded>
        <ProblemView error={create.error} />
      </form>
      <ProblemView error={list.error} />
      {list.isLoading ? <Loading /> : null}
      <table aria-label="Configurations">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Latest published</th>
            <th scope="col">Source</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((c) => (
            <tr key={c.id}>
              <td>
                <Link to={path(`configurations/${c.id}`)}>{c.name}</Link>
              </td>
              <td>{c.publishedVersion ? `v${c.publishedVersion}` : '—'}</td>
              <td>{c.source ?? 'api'}</td>
              <td title={c.createdAt}>{ago(c.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
