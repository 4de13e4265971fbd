import { FormEvent, useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router-dom';
import { del, get, post } from '../api/client';
import { useAuth } from '../auth/auth';
import { StatusBadge } from '../components/Badge';
import { Guarded } from '../components/Guarded';
import { useTenantPath } from '../components/Layout';
import { ListTable } from '../components/ListTable';
import { ProblemView } from '../components/ProblemView';
import { RowAction } from '../components/RowAction';

const PEERS = '/api/federation/peers';
const CERTIFICATES = '/api/federation/certificates';

export interface PingResult {
  peer: string;
  ok: boolean;
  factor?: 'tls' | 'thumbprint' | 'secret' | 'timeout' | 'circuit' | 'http';
  detail?: string;
  durationMs: number;
}

const FACTOR: Record<NonNullable<PingResult['factor']>, string> = {
  tls: 'no TLS session (the peer is down or refused, or this deployment has no federation certificate)',
  thumbprint: 'the peer\'s certificate is not the pinned one',
  secret: 'the peer refused our outbound secret',
  timeout: 'the peer did not answer in time',
  circuit: 'the circuit is open after repeated failures',
  http: 'the peer answered with an error',
};

/** What a ping said, green or which factor failed. */
export function pingText(r: PingResult): string {
  if (r.ok) return `${r.peer} answered in ${r.durationMs} ms: TLS with the pinned certificate, secret accepted`;
  return `${r.peer} failed: ${r.factor ? FACTOR[r.factor] : 'unknown reason'}${r.detail ? ` (${r.detail})` : ''}`;
}

interface CreatedPeer {
  peer: { name: string };
  approvalId: string;
  inboundSecret: string;
  outboundSecret: string;
}

function IssueCertificate() {
  const qc = useQueryClient();
  const [subject, setSubject] = useState('');
  const issue = useMutation({
    mutationFn: () => post<{ fingerprint: string; certificatePem: string }>(CERTIFICATES, { subject: subject.trim() }),
    onSuccess: () => {
      setSubject('');
      void qc.invalidateQueries({ queryKey: ['list', CERTIFICATES] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    issue.mutate();
  }
  return (
    <form onSubmit={submit} aria-labelledby="issue-cert" className="stack">
      <h3 id="issue-cert">Issue this deployment's federation certificate</h3>
      <div className="row">
        <label>
          Subject
          <input value={subject} onChange={(e) => setSubject(e.target.value)} placeholder="ampora-eu" required />
        </label>
        <Guarded role="Admin" type="submit" className="primary" disabled={!subject.trim() || issue.isPending}>
          Issue certificate
        </Guarded>
      </div>
      <ProblemView error={issue.error} />
      {issue.data ? (
        <div role="status">
          <p>
            Issued, valid 90 days. Give the peer this certificate (its key never leaves this server); it pins the fingerprint <code className="small">{issue.data.fingerprint}</code>.
          </p>
          <pre className="small" aria-label="Federation certificate PEM">
            {issue.data.certificatePem}
          </pre>
        </div>
      ) : null}
    </form>
  );
}

function RegisterPeer() {
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: '', endpoint: '', remoteCertificatePem: '', pinnedThumbprint: '', remoteTenant: '', inboundSecret: '', outboundSecret: '' });
  const field = (k: keyof typeof form) => ({ value: form[k], onChange: (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value }) });
  const create = useMutation({
    mutationFn: () => {
      const body: Record<string, string> = { name: form.name.trim(), endpoint: form.endpoint.trim() };
      for (const k of ['remoteCertificatePem', 'pinnedThumbprint', 'remoteTenant', 'inboundSecret', 'outboundSecret'] as const) if (form[k].trim()) body[k] = form[k].trim();
      return post<CreatedPeer>(PEERS, body);
    },
    onSuccess: () => {
      setForm({ name: '', endpoint: '', remoteCertificatePem: '', pinnedThumbprint: '', remoteTenant: '', inboundSecret: '', outboundSecret: '' });
      void qc.invalidateQueries({ queryKey: ['list', PEERS] });
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate();
  }
  return (
    <form className="panel" onSubmit={submit} aria-labelledby="new-peer">
      <h2 id="new-peer">Register a peer</h2>
      <p className="muted small">The peer stays pending until another Admin approves it (four-eyes). Leave the secrets empty when you create the pair first; paste the peer's when it did.</p>
      <div className="row">
        <label>
          Name
          <input {...field('name')} placeholder="us-region" pattern="[a-z0-9-]+" title="lower-case letters, digits, dashes" required />
        </label>
        <label>
          Endpoint
          <input {...field('endpoint')} placeholder="https://ampora-us.example.com:4323" required />
        </label>
        <label>
          Remote tenant
          <input {...field('remoteTenant')} placeholder="(yours by default)" />
        </label>
      </div>
      <label>
        Peer's federation certificate (PEM)
        <textarea {...field('remoteCertificatePem')} rows={3} spellCheck={false} />
      </label>
      <label>
        Or its SHA-256 thumbprint
        <input {...field('pinnedThumbprint')} spellCheck={false} />
      </label>
      <div className="row">
        <label>
          Inbound secret (the peer's outbound)
          <input {...field('inboundSecret')} type="password" autoComplete="off" />
        </label>
        <label>
          Outbound secret (the peer's inbound)
          <input {...field('outboundSecret')} type="password" autoComplete="off" />
        </label>
      </div>
      <Guarded role="Admin" type="submit" className="primary" disabled={!form.name.trim() || !form.endpoint.trim() || create.isPending}>
        Register peer
      </Guarded>
      <ProblemView error={create.error} />
      {create.data ? (
        <div role="status">
          <p>
            Peer {create.data.peer.name} is pending approval <code className="small">{create.data.approvalId}</code>. Copy the secrets now, they are shown once:
          </p>
          <dl className="small">
            <dt>Inbound (give it to the peer as its outboundSecret)</dt>
            <dd>
              <code className="secret">{create.data.inboundSecret}</code>
            </dd>
            <dt>Outbound (give it to the peer as its inboundSecret)</dt>
            <dd>
              <code className="secret">{create.data.outboundSecret}</code>
            </dd>
          </dl>
        </div>
      ) : null}
    </form>
  );
}

/** Federation (Admin): this deployment's certificate, its peers with their status and ping, and the federated fleet view. */
export function FederationPage() {
  const { can } = useAuth();
  const path = useTenantPath();
  if (!can('Admin')) return <p role="alert">This page needs the Admin role.</p>;
  return (
    <>
      <h1>Federation</h1>
      <p>
        <Link to={path('fleet?includeFederation=true')}>Open the federated fleet view</Link> (this deployment's agents with every active peer's).
      </p>
      <ListTable
        title="Peers"
        url={PEERS}
        empty="No peer registered."
        columns={[
          ['name', 'Name'],
          ['endpoint', 'Endpoint'],
          ['status', 'Status'],
          ['remoteTenant', 'Remote tenant'],
          ['pinnedThumbprint', 'Pinned thumbprint'],
          ['createdBy', 'Registered by'],
        ]}
        actions={(row) => (
          <>
            {row.status === 'Active' ? (
              <RowAction label="Ping" role="Admin" run={() => get<PingResult>('/api/federation/ping', { peer: String(row.name) })} done={(r) => <span className={r.ok ? 'ok' : 'bad'}><StatusBadge value={r.ok ? 'ok' : 'down'} /> {pingText(r)}</span>} />
            ) : null}
            <RowAction label="Remove" role="Admin" confirm={`Remove peer ${String(row.name)}? Its agents leave the federated view.`} run={() => del(`${PEERS}/${String(row.id)}`)} invalidate={[PEERS]} />
          </>
        )}
      />
      <RegisterPeer />
      <ListTable
        title="Federation certificates"
        url={CERTIFICATES}
        empty="No federation certificate: peers cannot call this deployment until one is issued."
        columns={[
          ['subject', 'Subject'],
          ['fingerprint', 'Fingerprint'],
          ['notAfter', 'Valid until'],
          ['createdBy', 'Issued by'],
        ]}
      >
        <IssueCertificate />
      </ListTable>
    </>
  );
}
