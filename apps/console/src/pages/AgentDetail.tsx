import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router-dom';
import { get, Page } from '../api/client';
import { AgentDetail, ConfigFile, ConfigHistoryEntry, DriftReport } from '../api/types';
import { Loading, StatusBadge } from '../components/Badge';
import { DiffView } from '../components/DiffView';
import { useTenantPath } from '../components/Layout';
import { PipelineGraph } from '../components/PipelineGraph';
import { ProblemView } from '../components/ProblemView';
import { ago } from '../lib/format';

const text = (files: ConfigFile[] | undefined) => (files ?? []).map((f) => (files!.length > 1 ? `# ${f.name}\n${f.body}` : f.body)).join('\n');

interface HealthNode {
  healthy?: boolean;
  status?: string;
  last_error?: string;
  lastError?: string;
  component_health_map?: Record<string, HealthNode>;
  componentHealthMap?: Record<string, HealthNode>;
}

function HealthTree({ node, name }: { node: HealthNode; name: string }) {
  const children = node.component_health_map ?? node.componentHealthMap ?? {};
  const error = node.last_error ?? node.lastError;
  return (
    <li>
      <StatusBadge value={node.healthy ?? null} /> <strong>{name}</strong> {node.status ? <span className="muted">{node.status}</span> : null}
      {error ? <span className="error-text"> {error}</span> : null}
      {Object.keys(children).length ? (
        <ul>
          {Object.entries(children).map(([k, v]) => (
            <HealthTree key={k} name={k} node={v} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}

function Attributes({ title, values }: { title: string; values: Record<string, unknown> }) {
  const entries = Object.entries(values);
  return (
    <>
      <h3>{title}</h3>
      {entries.length ? (
        <dl className="kv">
          {entries.map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</dd>
            </div>
          ))}
        </dl>
      ) : (
        <p className="muted">None</p>
      )}
    </>
  );
}

/** One agent: description, health tree, session, certificate, drift (side by side), remote config status, denials, history. */
export function AgentDetailPage() {
  const { id = '' } = useParams();
  const path = useTenantPath();
  const agent = useQuery({ queryKey: ['agents', id], queryFn: () => get<AgentDetail>(`/api/agents/${id}`), refetchInterval: 10_000 });
  const drift = useQuery({ queryKey: ['agents', id, 'drift'], queryFn: () => get<DriftReport>(`/api/agents/${id}/drift`) });
  const history = useQuery({ queryKey: ['agents', id, 'history'], queryFn: () => get<Page<ConfigHistoryEntry>>(`/api/agents/${id}/config-history`, { limit: 20 }) });
  if (agent.error) return <ProblemView error={agent.error} />;
  if (!agent.data) return <Loading what="Loading the agent" />;
  const a = agent.data;
  const assigned = text(a.assignedConfig?.files);
  const effective = text(a.effectiveConfig?.files);
  return (
    <>
      <p>
        <Link to={path('fleet')}>← Fleet</Link>
      </p>
      <h1>{a.displayName}</h1>
      <section className="panel" aria-labelledby="desc-title">
        <h2 id="desc-title">Description</h2>
        <dl className="kv">
          <div>
            <dt>Status</dt>
            <dd>
              <StatusBadge value={a.status} /> last seen {ago(a.lastSeenAt)}
            </dd>
          </div>
          <div>
            <dt>Type</dt>
            <dd>
              {a.agentType} {a.agentVersion}
            </dd>
          </div>
          <div>
            <dt>Instance UID</dt>
            <dd>
              <code>{a.instanceUid}</code>
            </dd>
          </div>
          <div>
            <dt>Session</dt>
            <dd>{a.connection.connected ? `${a.connection.transport ?? ''} on ${a.connection.ownerInstance ?? '?'} since ${ago(a.connection.connectedAt)}` : `disconnected ${ago(a.connection.disconnectedAt)}`}</dd>
          </div>
          <div>
            <dt>Identity</dt>
            <dd>
              {a.identity.kind}
              {a.identity.certificateFingerprint ? (
                <>
                  {' '}
                  certificate <code>{a.identity.certificateFingerprint.slice(0, 23)}</code>
                </>
              ) : null}
              {a.identity.certificateOffer ? ` (offer ${a.identity.certificateOffer.status})` : null}
            </dd>
          </div>
          <div>
            <dt>Assignment</dt>
            <dd>
              {a.assignment ? (
                a.assignment.configurationId ? (
                  <Link to={path(`configurations/${a.assignment.configurationId}`)}>
                    version {a.assignment.version} ({a.assignment.source})
                  </Link>
                ) : (
                  `raw YAML (${a.assignment.source})`
                )
              ) : (
                'none'
              )}
            </dd>
          </div>
          <div>
            <dt>Capabilities</dt>
            <dd className="small">{a.capabilities.names.join(', ')}</dd>
          </div>
        </dl>
        <Attributes title="Labels" values={a.labels} />
        <Attributes title="Tags" values={a.tags} />
      </section>
      <section className="panel" aria-labelledby="remote-title">
        <h2 id="remote-title">Remote configuration</h2>
        <p>
          Status: <StatusBadge value={a.remoteConfig.status ?? 'none'} />
        </p>
        {a.remoteConfig.errorMessage ? (
          <p role="note" className="error-text">
            The agent reported: {a.remoteConfig.errorMessage}
          </p>
        ) : null}
        {a.remoteConfig.lastFailure ? (
          <p className="muted">
            Last failure {ago(a.remoteConfig.lastFailure.at)}: {a.remoteConfig.lastFailure.message}
          </p>
        ) : null}
        {a.pushDenial ? (
          <p role="note" className="warn-text">
            A push was denied by policy <strong>{a.pushDenial.policyName}</strong> ({a.pushDenial.path}, {ago(a.pushDenial.at)}): {a.pushDenial.reason}
          </p>
        ) : null}
      </section>
      <section className="panel" aria-labelledby="drift-title">
        <h2 id="drift-title">Assigned vs effective configuration</h2>
        <ProblemView error={drift.error} />
        {drift.data ? (
          <p data-testid="drift-verdict">
            {drift.data.drift === true ? <span className="badge badge-drift">drift</span> : drift.data.drift === false ? <span className="badge badge-healthy">in sync</span> : <span className="badge">unknown</span>} {drift.data.reason}
          </p>
        ) : null}
        {drift.data?.differences?.length ? (
          <ul className="changes">
            {drift.data.differences.map((d, k) => (
              <li key={k} className={d.counts ? 'counts' : 'ignored'}>
                {d.summary}
                {d.why ? <span className="muted"> — {d.why}</span> : null}
              </li>
            ))}
          </ul>
        ) : null}
        {a.assignedConfig || a.effectiveConfig ? <DiffView label="Assigned versus effective configuration" left={assigned} right={effective} leftTitle="Assigned" rightTitle="Effective (reported)" /> : <p className="muted">Neither an assigned nor an effective configuration yet.</p>}
      </section>
      {effective ? (
        <section className="panel" aria-labelledby="pipe-title">
          <h2 id="pipe-title">Effective pipelines</h2>
          <PipelineGraph yaml={a.effectiveConfig?.files[0]?.body ?? ''} title="Pipelines of the effective configuration" />
        </section>
      ) : null}
      <section className="panel" aria-labelledby="health-title">
        <h2 id="health-title">Health</h2>
        {a.health ? (
          <ul className="tree">
            <HealthTree name="agent" node={a.health as HealthNode} />
          </ul>
        ) : (
          <p className="muted">Not reported.</p>
        )}
      </section>
      <section className="panel" aria-labelledby="history-title">
        <h2 id="history-title">Configuration history</h2>
        <ProblemView error={history.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">Version</th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {history.data?.items.map((h, k) => (
              <tr key={k}>
                <td title={h.at}>{ago(h.at)}</td>
                <td>{h.kind}</td>
                <td>{h.version ? `v${h.version.version}` : <code>{h.configHash.slice(0, 12)}</code>}</td>
                <td>{h.message ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="panel" aria-labelledby="attrs-title">
        <h2 id="attrs-title">Description attributes</h2>
        <Attributes title="Identifying" values={a.identifyingAttributes} />
        <Attributes title="Non-identifying" values={a.nonIdentifyingAttributes} />
      </section>
    </>
  );
}
