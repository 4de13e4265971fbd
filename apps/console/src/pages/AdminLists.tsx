import { FormEvent, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { del, get, Page, post } from '../api/client';
import { useAuth } from '../auth/auth';
import { Guarded } from '../components/Guarded';
import { ListTable } from '../components/ListTable';
import { ProblemView } from '../components/ProblemView';
import { RowAction } from '../components/RowAction';
import { ago } from '../lib/format';

function NewToken() {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [role, setRole] = useState('Viewer');
  const [shown, setShown] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => post<{ token: string }>('/api/tokens', { name: name.trim(), role }),
    onSuccess: (t) => {
      setShown(t.token);
      setName('');
      void qc.invalidateQueries({ queryKey: ['list', TOKENS] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-token">
      <h2 id="new-token">New personal access token</h2>
      <div className="row">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.target.value)}>
            <option>Viewer</option>
            <option>Operator</option>
            <option>Admin</option>
          </select>
        </label>
        <Guarded role="Admin" type="submit" className="primary" disabled={!name.trim() || create.isPending}>
          Create token
        </Guarded>
      </div>
      {shown ? (
        <p role="status">
          Copy it now, it is shown once: <code className="secret">{shown}</code>
        </p>
      ) : null}
      <ProblemView error={create.error} />
    </form>
  );
}

const SOURCES = '/api/gitops/sources';
const KEYS = '/api/pki/signing-keys';
const CERTS = '/api/pki/certificates';
const TOKENS = '/api/tokens';

interface SyncRun {
  id: string;
  trigger: string;
  outcome: string;
  startedAt: string;
  tipSha: string | null;
  filesImported: number;
  filesUnchanged: number;
  filesOrphaned: number;
  [key: string]: unknown;
}

function NewGitSource() {
  const qc = useQueryClient();
  const [f, setF] = useState({ name: '', repositoryUrl: '', branch: 'main', pathGlob: '**/*.yaml', credentialKind: 'None', credential: '', autoPublish: false });
  const create = useMutation({
    mutationFn: () =>
      post(SOURCES, {
        name: f.name.trim(),
        repositoryUrl: f.repositoryUrl.trim(),
        branch: f.branch.trim() || undefined,
        pathGlob: f.pathGlob.trim() || undefined,
        credentialKind: f.credentialKind,
        ...(f.credentialKind !== 'None' && f.credential ? { credential: f.credential } : {}),
        autoPublish: f.autoPublish,
      }),
    onSuccess: () => {
      setF({ ...f, name: '', repositoryUrl: '', credential: '' });
      void qc.invalidateQueries({ queryKey: ['list', SOURCES] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-source">
      <h2 id="new-source">New Git source</h2>
      <div className="row">
        <label>
          Name
          <input value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} required />
        </label>
        <label>
          Repository
          <input value={f.repositoryUrl} onChange={(e) => setF({ ...f, repositoryUrl: e.target.value })} placeholder="https://github.com/acme/otel-configs.git" required />
        </label>
        <label>
          Branch
          <input value={f.branch} onChange={(e) => setF({ ...f, branch: e.target.value })} />
        </label>
        <label>
          Files
          <input value={f.pathGlob} onChange={(e) => setF({ ...f, pathGlob: e.target.value })} />
        </label>
      </div>
      <div className="row">
        <label>
          Credential
          <select value={f.credentialKind} onChange={(e) => setF({ ...f, credentialKind: e.target.value })}>
            <option value="None">None</option>
            <option value="Pat">HTTPS token</option>
            <option value="SshKey">SSH key</option>
          </select>
        </label>
        {f.credentialKind !== 'None' ? (
          <label>
            {f.credentialKind === 'Pat' ? 'Token' : 'Private key'}
            <textarea value={f.credential} onChange={(e) => setF({ ...f, credential: e.target.value })} rows={2} spellCheck={false} autoComplete="off" />
          </label>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={f.autoPublish} onChange={(e) => setF({ ...f, autoPublish: e.target.checked })} />
          Publish imported versions without errors
        </label>
      </div>
      <Guarded role="Admin" type="submit" className="primary" disabled={!f.name.trim() || !f.repositoryUrl.trim() || create.isPending}>
        Create source
      </Guarded>
      <ProblemView error={create.error} />
    </form>
  );
}

/** The last sync runs of one source, shown on demand. */
function SyncRuns({ sourceId }: { sourceId: string }) {
  return (
    <RowAction
      label="Runs"
      role="Admin"
      run={() => get<Page<SyncRun>>(`${SOURCES}/${sourceId}/runs`, { limit: 5 })}
      done={(page) =>
        page.items.length === 0 ? (
          'No run yet.'
        ) : (
          <ul className="plain small" aria-label="Sync runs">
            {page.items.map((r) => (
              <li key={r.id}>
                {ago(r.startedAt)} {r.trigger}: <strong>{r.outcome}</strong> at {r.tipSha?.slice(0, 8) ?? '—'}, {r.filesImported} imported, {r.filesUnchanged} unchanged, {r.filesOrphaned} orphaned
              </li>
            ))}
          </ul>
        )
      }
    />
  );
}

/** The Admin areas: GitOps sources, PKI signing keys and certificates, tokens — with their actions. */
export function AdminListPage({ kind }: { kind: 'gitops' | 'pki' | 'tokens' }) {
  const { can } = useAuth();
  if (!can('Admin')) return <p role="alert">This page needs the Admin role.</p>;
  if (kind === 'gitops')
    return (
      <>
        <h1>GitOps sources</h1>
        <ListTable
          title="Sources"
          url={SOURCES}
          empty="No Git source yet."
          columns={[
            ['name', 'Name'],
            ['repositoryUrl', 'Repository'],
            ['branch', 'Branch'],
            ['pathGlob', 'Files'],
            ['status', 'Status'],
            ['lastSyncedSha', 'Last synced commit'],
            ['lastSyncedAt', 'Synced at'],
          ]}
          actions={(row) => {
            const id = String(row.id);
            return (
              <>
                <RowAction label="Sync now" role="Admin" run={() => post(`${SOURCES}/${id}/sync`)} invalidate={[SOURCES]} done={() => 'Sync requested.'} />
                {row.status === 'Paused' ? (
                  <RowAction label="Resume" role="Admin" run={() => post(`${SOURCES}/${id}/resume`)} invalidate={[SOURCES]} />
                ) : (
                  <RowAction label="Pause" role="Admin" run={() => post(`${SOURCES}/${id}/pause`)} invalidate={[SOURCES]} />
                )}
                <SyncRuns sourceId={id} />
                <RowAction label="Delete" role="Admin" confirm={`Delete source ${String(row.name)}? Its imported configurations stay.`} run={() => del(`${SOURCES}/${id}`)} invalidate={[SOURCES]} />
              </>
            );
          }}
        />
        <NewGitSource />
      </>
    );
  if (kind === 'pki')
    return (
      <>
        <h1>PKI</h1>
        <ListTable
          title="Signing keys"
          url={KEYS}
          empty="No signing key."
          columns={[
            ['commonName', 'Common name'],
            ['state', 'State'],
            ['algorithm', 'Algorithm'],
            ['provider', 'Provider'],
            ['notAfter', 'Valid until'],
            ['fingerprint', 'Fingerprint'],
          ]}
          actions={(row) => {
            const id = String(row.id);
            return (
              <>
                {row.state === 'Draft' ? (
                  <RowAction
                    label="Activate"
                    role="Admin"
                    confirm={`Ask for the activation of ${String(row.commonName)}? Another Admin approves it; the Active key then becomes Trusted.`}
                    run={() => post<{ approvalId: string }>(`${KEYS}/${id}/activate`)}
                    invalidate={[KEYS]}
                    done={(r) => `Waiting for approval ${r.approvalId}.`}
                  />
                ) : null}
                {row.state === 'Draft' || row.state === 'Trusted' ? (
                  <RowAction label="Retire" role="Admin" confirm={`Retire ${String(row.commonName)}? Certificates it signed are no longer accepted.`} typed="confirm" run={() => post(`${KEYS}/${id}/retire`)} invalidate={[KEYS]} />
                ) : null}
              </>
            );
          }}
        >
          <RowAction label="Generate a new signing key" role="Admin" run={() => post(KEYS, {})} invalidate={[KEYS]} done={() => 'A Draft key was generated: activate it to rotate.'} />
        </ListTable>
        <ListTable
          title="Certificates"
          url={CERTS}
          empty="No certificate issued."
          columns={[
            ['subject', 'Subject'],
            ['kind', 'Kind'],
            ['status', 'Status'],
            ['serialNumber', 'Serial'],
            ['notAfter', 'Valid until'],
            ['revocationReason', 'Revocation'],
          ]}
          actions={(row) =>
            row.status === 'revoked' ? null : (
              <RowAction
                label="Revoke"
                role="Operator"
                confirm={`Revoke the certificate of ${String(row.subject)}? Its agent's session is closed.`}
                typed="confirm"
                run={() => post(`${CERTS}/${String(row.id)}/revoke?reason=cessationOfOperation`)}
                invalidate={[CERTS]}
              />
            )
          }
        />
      </>
    );
  return (
    <>
      <h1>Tokens</h1>
      <NewToken />
      <ListTable
        title="Personal access tokens"
        url={TOKENS}
        empty="No token."
        columns={[
          ['name', 'Name'],
          ['role', 'Role'],
          ['createdBy', 'Created by'],
          ['createdAt', 'Created'],
          ['lastUsedAt', 'Last used'],
          ['revokedAt', 'Revoked'],
        ]}
        actions={(row) =>
          row.revokedAt ? null : (
            <RowAction label="Revoke" role="Admin" confirm={`Revoke token ${String(row.name)}? Every call with it fails from now on.`} run={() => del(`${TOKENS}/${String(row.id)}`)} invalidate={[TOKENS]} />
          )
        }
      />
    </>
  );
}
