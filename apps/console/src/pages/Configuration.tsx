import { useEffect, useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { get, Page, post, put } from '../api/client';
import { Configuration, Finding, SemanticChange, Version, VersionSummary } from '../api/types';
import { Loading, StatusBadge } from '../components/Badge';
import { DiffView } from '../components/DiffView';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { PipelineGraph } from '../components/PipelineGraph';
import { ProblemView } from '../components/ProblemView';
import { YamlEditor } from '../components/YamlEditor';
import { ago } from '../lib/format';

const STARTER = 'receivers:\n  otlp:\n    protocols:\n      grpc: {}\nexporters:\n  debug: {}\nservice:\n  pipelines:\n    traces:\n      receivers: [otlp]\n      exporters: [debug]\n';

export const validateYaml = async (yaml: string) => (await post<{ findings: Finding[] }>('/api/configurations/validate', { yaml })).findings;

function Findings({ findings, error }: { findings: Finding[] | null; error: unknown }) {
  if (error) return <ProblemView error={error} />;
  if (!findings) return <p className="muted" role="status">Checking…</p>;
  if (!findings.length)
    return (
      <p className="ok-text" role="status">
        No findings: the configuration is valid.
      </p>
    );
  return (
    <div role="status">
      <ul className="findings" aria-label="Findings">
        {findings.map((f, k) => (
          <li key={k} className={`finding finding-${f.severity.toLowerCase()}`}>
            <strong>{f.severity}</strong> {f.line ? <span className="finding-line">line {f.line}</span> : null}: {f.message} <code>{f.code}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Compare({ id, versions }: { id: string; versions: VersionSummary[] }) {
  const [from, setFrom] = useState(versions[1]?.number ?? versions[0]?.number ?? 1);
  const [to, setTo] = useState(versions[0]?.number ?? 1);
  const diff = useQuery({
    queryKey: ['configurations', id, 'compare', from, to],
    queryFn: async () => {
      const [d, a, b] = await Promise.all([
        get<{ semantic: SemanticChange[] | null; identical: boolean }>(`/api/configurations/${id}/versions/compare`, { from, to }),
        get<Version>(`/api/configurations/${id}/versions/${from}`),
        get<Version>(`/api/configurations/${id}/versions/${to}`),
      ]);
      return { ...d, left: a.yaml, right: b.yaml };
    },
    enabled: versions.length > 1,
  });
  if (versions.length < 2) return <p className="muted">Two versions are needed for a diff.</p>;
  const pick = (v: number, set: (n: number) => void, label: string) => (
    <label>
      {label}
      <select value={v} onChange={(e) => set(Number(e.target.value))}>
        {versions.map((x) => (
          <option key={x.number} value={x.number}>
            v{x.number} ({x.status})
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <>
      <div className="row">
        {pick(from, setFrom, 'From')}
        {pick(to, setTo, 'To')}
      </div>
      <ProblemView error={diff.error} />
      {diff.data?.semantic?.length ? (
        <ul className="changes" aria-label="Semantic changes">
          {diff.data.semantic.map((c, k) => (
            <li key={k}>{c.summary}</li>
          ))}
        </ul>
      ) : diff.data ? (
        <p className="muted">{diff.data.identical ? 'Identical.' : 'No component-level change.'}</p>
      ) : null}
      {diff.data ? <DiffView label={`v${from} versus v${to}`} left={diff.data.left} right={diff.data.right} leftTitle={`v${from}`} rightTitle={`v${to}`} /> : null}
    </>
  );
}

/** A configuration: its versions and states, the editor (validated as you type), diffs, pipeline view. */
export function ConfigurationPage() {
  const { id = '' } = useParams();
  const path = useTenantPath();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const selected = params.get('v');
  const editing = params.get('edit') === '1';
  const config = useQuery({ queryKey: ['configurations', id], queryFn: () => get<Configuration>(`/api/configurations/${id}`) });
  const versions = useQuery({ queryKey: ['configurations', id, 'versions'], queryFn: () => get<Page<VersionSummary>>(`/api/configurations/${id}/versions`, { limit: 100 }) });
  const latest = versions.data?.items[0]?.number;
  const shown = selected ? Number(selected) : latest;
  const version = useQuery({ queryKey: ['configurations', id, 'versions', shown], queryFn: () => get<Version>(`/api/configurations/${id}/versions/${shown}`), enabled: shown !== undefined });
  const [draft, setDraft] = useState<string | null>(null);
  const [findings, setFindings] = useState<Finding[] | null>(null);
  const [checkError, setCheckError] = useState<unknown>(null);
  useEffect(() => {
    if (editing && draft === null && versions.data) setDraft(version.data?.yaml ?? (versions.data.items.length ? null : STARTER));
  }, [editing, draft, versions.data, version.data]);
  const refresh = () => void qc.invalidateQueries({ queryKey: ['configurations', id] });
  const save = useMutation({
    mutationFn: (yaml: string) => {
      const v = version.data;
      return v && v.status === 'Draft' && v.number === latest ? put<Version>(`/api/configurations/${id}/versions/${v.number}`, { yaml }) : post<Version>(`/api/configurations/${id}/versions`, { yaml });
    },
    onSuccess: (v) => {
      refresh();
      setDraft(null);
      setParams({ v: String(v.number) });
    },
  });
  const lifecycle = useMutation({
    mutationFn: ({ n, action }: { n: number; action: 'publish' | 'archive' }) => post<Version>(`/api/configurations/${id}/versions/${n}/${action}`),
    onSuccess: refresh,
  });
  if (config.error) return <ProblemView error={config.error} />;
  if (!config.data) return <Loading />;
  const v = version.data;
  return (
    <>
      <p>
        <Link to={path('configurations')}>← Configurations</Link>
      </p>
      <h1>{config.data.name}</h1>
      <section className="panel" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <ProblemView error={versions.error ?? lifecycle.error} />
        <table aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">State</th>
              <th scope="col">Findings</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {versions.data?.items.map((x) => (
              <tr key={x.id} aria-current={x.number === shown ? 'true' : undefined}>
                <td>
                  <button type="button" className="link" onClick={() => setParams({ v: String(x.number) })}>
                    v{x.number}
                  </button>
                </td>
                <td>
                  <StatusBadge value={x.status} />
                </td>
                <td>
                  {x.errorCount} errors, {x.warningCount} warnings
                </td>
                <td title={x.createdAt}>
                  {ago(x.createdAt)} by {x.createdBy}
                </td>
                <td>
                  {x.status === 'Draft' ? (
                    <Guarded role="Operator" disabled={x.errorCount > 0 || lifecycle.isPending} onClick={() => lifecycle.mutate({ n: x.number, action: 'publish' })} aria-label={`Publish v${x.number}`}>
                      Publish
                    </Guarded>
                  ) : null}
                  {x.status === 'Published' ? (
                    <Guarded role="Operator" disabled={lifecycle.isPending} onClick={() => lifecycle.mutate({ n: x.number, action: 'archive' })} aria-label={`Archive v${x.number}`}>
                      Archive
                    </Guarded>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {!editing ? (
          <Guarded role="Operator" className="primary" onClick={() => setParams({ edit: '1', ...(selected ? { v: selected } : {}) })}>
            {v?.status === 'Draft' ? 'Edit draft' : 'New version'}
          </Guarded>
        ) : null}
      </section>
      {editing && draft !== null ? (
        <section className="panel" aria-labelledby="editor-title">
          <h2 id="editor-title">{v?.status === 'Draft' && v.number === latest ? `Edit draft v${v.number}` : 'New version'}</h2>
          <YamlEditor
            label="Configuration YAML"
            value={draft}
            onChange={setDraft}
            validate={validateYaml}
            onFindings={(f, e) => {
              setFindings(f);
              setCheckError(e ?? null);
            }}
          />
          <Findings findings={findings} error={checkError} />
          <div className="row">
            <button type="button" className="primary" disabled={save.isPending || !!findings?.some((f) => f.severity === 'Error')} onClick={() => save.mutate(draft)}>
              Save draft
            </button>
            <button
              type="button"
              onClick={() => {
                setDraft(null);
                setParams(selected ? { v: selected } : {});
              }}
            >
              Cancel
            </button>
          </div>
          <ProblemView error={save.error} />
        </section>
      ) : null}
      {v && !editing ? (
        <section className="panel" aria-labelledby="version-title">
          <h2 id="version-title">
            v{v.number} <StatusBadge value={v.status} />
          </h2>
          <Findings findings={v.findings} error={null} />
          <YamlEditor label={`YAML of v${v.number}`} value={v.yaml} readOnly />
        </section>
      ) : null}
      {v || draft ? (
        <section className="panel" aria-labelledby="pipelines-title">
          <h2 id="pipelines-title">Pipelines</h2>
          <PipelineGraph yaml={editing && draft !== null ? draft : v?.yaml ?? ''} title="Pipelines of the configuration" />
        </section>
      ) : null}
      {versions.data ? (
        <section className="panel" aria-labelledby="diff-title">
          <h2 id="diff-title">Compare versions</h2>
          <Compare id={id} versions={versions.data.items} />
        </section>
      ) : null}
    </>
  );
}
