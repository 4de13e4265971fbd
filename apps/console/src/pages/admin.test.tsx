import { afterEach, describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { fakeFetch, renderAs } from '../test/render';
import { AdminListPage } from './AdminLists';
import { FederationPage, pingText } from './Federation';
import { LintRulesPage } from './LintRules';
import { policyActions } from './Policies';

const real = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = real;
});

const peer = (id: string, name: string, status: string) => ({ id, name, endpoint: `https://${name}:4323`, pinnedThumbprint: 'ab:cd', remoteTenant: 'default', status, createdBy: 'root', createdAt: '', updatedAt: '' });

describe('FederationPage', () => {
  it('pings an active peer and says which factor failed', async () => {
    const f = fakeFetch({
      '/api/federation/peers': { body: { items: [peer('p1', 'us-region', 'Active'), peer('p2', 'ap-region', 'PendingApproval')], nextCursor: null } },
      '/api/federation/certificates': { body: { items: [], nextCursor: null } },
      '/api/federation/ping': { body: { peer: 'us-region', ok: false, factor: 'secret', durationMs: 40 } },
    });
    globalThis.fetch = f.fn;
    renderAs('Admin', <FederationPage />, '/t/default/federation');
    const peers = await screen.findByRole('table', { name: 'Peers' });
    await within(peers).findByText('us-region');
    // only an Active peer can be pinged
    expect(within(peers).getAllByRole('button', { name: 'Ping' })).toHaveLength(1);
    fireEvent.click(within(peers).getByRole('button', { name: 'Ping' }));
    await within(peers).findByText(/refused our outbound secret/);
    expect(f.calls.some((c) => c.url === '/api/federation/ping?peer=us-region')).toBe(true);
    expect(screen.getByText(/No federation certificate/)).toBeTruthy();
    expect(screen.getByRole('link', { name: 'Open the federated fleet view' }).getAttribute('href')).toBe('/t/default/fleet?includeFederation=true');
  });

  it('registers a peer and shows its two secrets once, with the approval to wait for', async () => {
    const f = fakeFetch({
      '/api/federation/peers': { status: 201, body: { peer: peer('p3', 'eu-west', 'PendingApproval'), approvalId: 'ap-1', inboundSecret: 'IN'.repeat(22), outboundSecret: 'OUT'.repeat(15) } },
      '/api/federation/certificates': { body: { items: [], nextCursor: null } },
    });
    const list = fakeFetch({ '/api/federation/peers': { body: { items: [], nextCursor: null } } });
    // the list is a GET of the same path as the registration's POST
    globalThis.fetch = ((url: string, init?: RequestInit) => (init?.method === 'GET' && String(url).startsWith('/api/federation/peers') ? list.fn(url, init) : f.fn(url, init))) as typeof fetch;
    renderAs('Admin', <FederationPage />, '/t/default/federation');
    fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'eu-west' } });
    fireEvent.change(screen.getByLabelText('Endpoint'), { target: { value: 'https://eu:4323' } });
    fireEvent.change(screen.getByLabelText('Or its SHA-256 thumbprint'), { target: { value: 'ab:cd' } });
    fireEvent.click(screen.getByRole('button', { name: 'Register peer' }));
    await screen.findByText('IN'.repeat(22));
    expect(screen.getByText('OUT'.repeat(15))).toBeTruthy();
    expect(screen.getByText('ap-1')).toBeTruthy();
    const sent = f.calls.find((c) => c.url === '/api/federation/peers' && c.init?.method === 'POST')!;
    expect(JSON.parse(String(sent.init!.body))).toEqual({ name: 'eu-west', endpoint: 'https://eu:4323', pinnedThumbprint: 'ab:cd' });
  });

  it('is Admin-only', () => {
    renderAs('Operator', <FederationPage />, '/t/default/federation');
    expect(screen.getByRole('alert').textContent).toBe('This page needs the Admin role.');
  });

  it('words a green ping', () => {
    expect(pingText({ peer: 'us', ok: true, durationMs: 9 })).toContain('us answered in 9 ms');
  });
});

describe('Admin actions', () => {
  it('revokes a token after the confirmation names it, and refreshes the list', async () => {
    const token = (id: string, name: string, revokedAt: string | null) => ({ id, name, role: 'Viewer', createdBy: 'root', createdAt: '', expiresAt: null, lastUsedAt: null, revokedAt });
    const f = fakeFetch({ '/api/tokens': { body: { items: [token('t1', 'ci', null), token('t2', 'old', '2026-01-01')], nextCursor: null } }, '/api/tokens/t1': { status: 204, body: '' } });
    globalThis.fetch = f.fn;
    renderAs('Admin', <AdminListPage kind="tokens" />, '/t/default/tokens');
    const table = await screen.findByRole('table', { name: 'Personal access tokens' });
    await within(table).findByText('ci');
    expect(within(table).getAllByRole('button', { name: 'Revoke' })).toHaveLength(1);
    fireEvent.click(within(table).getByRole('button', { name: 'Revoke' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('Revoke token ci?');
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(f.calls.some((c) => c.url === '/api/tokens/t1' && c.init?.method === 'DELETE')).toBe(true));
    await waitFor(() => expect(f.calls.filter((c) => c.url.startsWith('/api/tokens?')).length).toBe(2));
  });

  it('asks for a signing key\'s activation and shows the approval it waits for', async () => {
    const key = (id: string, state: string) => ({ id, state, commonName: `ca-${id}`, algorithm: 'ECDSA-P256', provider: 'software', notAfter: '', fingerprint: 'ff' });
    const f = fakeFetch({
      '/api/pki/signing-keys': { body: { items: [key('k1', 'Active'), key('k2', 'Draft')], nextCursor: null } },
      '/api/pki/certificates': { body: { items: [], nextCursor: null } },
      '/api/pki/signing-keys/k2/activate': { status: 202, body: { signingKey: key('k2', 'Draft'), approvalId: 'ap-9' } },
    });
    globalThis.fetch = f.fn;
    renderAs('Admin', <AdminListPage kind="pki" />, '/t/default/pki');
    const keys = await screen.findByRole('table', { name: 'Signing keys' });
    await within(keys).findByText('ca-k2');
    expect(within(keys).getAllByRole('button', { name: 'Activate' })).toHaveLength(1);
    fireEvent.click(within(keys).getByRole('button', { name: 'Activate' }));
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await screen.findByText('Waiting for approval ap-9.');
  });

  it('offers a policy the transitions of its status', () => {
    expect(policyActions('Draft')).toEqual(['submit', 'disable']);
    expect(policyActions('PendingApproval')).toEqual(['approve', 'reject', 'disable']);
    expect(policyActions('Active')).toEqual(['disable']);
    expect(policyActions('Disabled')).toEqual(['submit']);
  });

  it('shows lint rules to an Operator without the Admin actions', async () => {
    globalThis.fetch = fakeFetch({ '/api/lint-rules': { body: { items: [{ id: 'r1', name: 'otlp-only', severity: 'Error', status: 'Active', expression: 'x', pendingChange: null }], nextCursor: null } } }).fn;
    renderAs('Operator', <LintRulesPage />, '/t/default/lint-rules');
    await screen.findByText('otlp-only');
    expect(screen.queryByRole('button', { name: 'Disable' })).toBeNull();
    expect(screen.queryByRole('heading', { name: 'New lint rule' })).toBeNull();
  });
});
