import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { AuthProvider } from '../auth/auth';
import { readCredential } from '../auth/session';
import { fakeFetch, renderAs } from '../test/render';
import { parseCanarySteps } from './NewRollout';
import { actionsFor } from './Rollout';
import { SignIn } from './SignIn';
import { FleetPage } from './Fleet';

function Where() {
  const l = useLocation();
  return <p data-testid="where">{l.pathname + l.search}</p>;
}

function signInPage() {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <MemoryRouter initialEntries={['/sign-in']}>
        <AuthProvider>
          <Routes>
            <Route path="/sign-in" element={<SignIn />} />
            <Route path="*" element={<Where />} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('SignIn', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('keeps an accepted token in session storage, sends it in a header, and goes to the tenant', async () => {
    const f = fakeFetch({ '/api/me': { body: { kind: 'pat', tenantId: 't', tenantName: 'acme', role: 'Operator', actor: 'ci' } }, '/api/auth/oidc': { body: { enabled: false } } });
    globalThis.fetch = f.fn;
    signInPage();
    fireEvent.change(screen.getByLabelText('Personal access token'), { target: { value: 'amp-pat-abc' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('where').textContent).toBe('/t/acme'));
    expect(readCredential()).toEqual({ kind: 'pat', token: 'amp-pat-abc' });
    const me = f.calls.find((c) => c.url === '/api/me')!;
    expect((me.init!.headers as Record<string, string>).authorization).toBe('Bearer amp-pat-abc');
    // without OIDC configured there is no identity-provider button
    expect(screen.queryByRole('button', { name: 'Sign in with your identity provider' })).toBeNull();
    expect(screen.getByTestId('where').textContent).not.toContain('amp-pat');
  });

  it('offers the identity provider the server names', async () => {
    globalThis.fetch = fakeFetch({
      '/api/auth/oidc': { body: { enabled: true, issuer: 'https://idp.example.com', clientId: 'c', scopes: 'openid', audience: 'a', authorizationEndpoint: 'https://idp.example.com/authorize', tokenEndpoint: 'https://idp.example.com/token', endSessionEndpoint: null } },
    }).fn;
    signInPage();
    const button = await screen.findByRole('button', { name: 'Sign in with your identity provider' });
    expect(button.closest('section')!.textContent).toContain('https://idp.example.com');
    expect(screen.getByLabelText('Personal access token')).toBeTruthy();
  });

  it('shows the refusal with its code and keeps nothing', async () => {
    globalThis.fetch = fakeFetch({ '/api/me': { status: 401, type: 'application/problem+json', body: { title: 'Unauthorized', status: 401, detail: 'The token is unknown or revoked', code: 'UNAUTHENTICATED' } } }).fn;
    signInPage();
    fireEvent.change(screen.getByLabelText('Personal access token'), { target: { value: 'amp-pat-wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Unauthorized');
    expect(alert.textContent).toContain('UNAUTHENTICATED');
    expect(readCredential()).toBeNull();
  });
});

describe('FleetPage', () => {
  const real = globalThis.fetch;
  let f: ReturnType<typeof fakeFetch>;
  beforeEach(() => {
    f = fakeFetch({
      '/api/agents': {
        body: {
          items: [{ id: 'a1', instanceUid: 'u', displayName: 'edge-1', agentType: 'otelcol', agentVersion: '0.1', status: 'connected', healthy: true, remoteConfigStatus: 'APPLIED', drift: true, groupId: null, labels: { env: 'prod' }, lastSeenAt: null, createdAt: '' }],
          nextCursor: 'c2',
        },
      },
      '/api/groups': { body: { items: [], nextCursor: null } },
    });
    globalThis.fetch = f.fn;
  });
  afterEach(() => {
    globalThis.fetch = real;
    vi.restoreAllMocks();
  });

  it('asks the API with the filters of the URL and pages with its cursor', async () => {
    renderAs('Viewer', <FleetPage />, '/t/default/fleet?status=connected&label=env%3Dprod&text=edge');
    expect(await screen.findByText('edge-1')).toBeTruthy();
    expect(screen.getByText('drift')).toBeTruthy();
    const first = f.calls.find((c) => c.url.startsWith('/api/agents'))!.url;
    expect(first).toContain('status=connected');
    expect(first).toContain('label=env%3Dprod');
    expect(first).toContain('text=edge');
    fireEvent.click(screen.getByRole('button', { name: 'Next page' }));
    await waitFor(() => expect(f.calls.some((c) => c.url.includes('cursor=c2'))).toBe(true));
  });

  it('leaves bulk actions disabled for a Viewer, saying why', async () => {
    renderAs('Viewer', <FleetPage />, '/t/default/fleet');
    await screen.findByText('edge-1');
    const push = screen.getByRole('button', { name: /Force push/ }) as HTMLButtonElement;
    expect(push.disabled).toBe(true);
    expect(push.title).toBe('Needs the Operator role');
  });
});

describe('rollout helpers', () => {
  it('parses canary steps and refuses a bad one', () => {
    expect(parseCanarySteps('10:30, 50 : 60, 100')).toEqual([
      { percent: 10, dwellSeconds: 30 },
      { percent: 50, dwellSeconds: 60 },
      { percent: 100, dwellSeconds: 0 },
    ]);
    expect(() => parseCanarySteps('10:x')).toThrow(/percent:dwellSeconds/);
  });

  it('offers only what the state allows', () => {
    expect(actionsFor({ state: 'InProgress', waitingFor: 'apply' })).toEqual(['pause', 'abort']);
    expect(actionsFor({ state: 'InProgress', waitingFor: 'advance' })).toEqual(['advance', 'pause', 'abort']);
    expect(actionsFor({ state: 'Paused', waitingFor: null })).toEqual(['resume', 'abort']);
    expect(actionsFor({ state: 'Failed', waitingFor: null })).toEqual(['rollback']);
    expect(actionsFor({ state: 'Completed', waitingFor: null })).toEqual([]);
    // a Pending rollout can be aborted (it frees its group); one that failed before it started has nothing to roll back
    expect(actionsFor({ state: 'Pending', waitingFor: null, startedAt: null })).toEqual(['abort']);
    expect(actionsFor({ state: 'Failed', waitingFor: null, startedAt: null })).toEqual([]);
    expect(actionsFor({ state: 'Failed', waitingFor: null, startedAt: '2026-12-06T10:00:00.000Z' })).toEqual(['rollback']);
  });
});

describe('FleetPage bulk revocation', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('names the count and needs the word confirm typed before it revokes', async () => {
    const f = fakeFetch({
      '/api/agents': { body: { items: [{ id: 'a1', instanceUid: 'u', displayName: 'edge-1', agentType: 't', agentVersion: '1', status: 'connected', healthy: null, remoteConfigStatus: null, drift: 'unknown', groupId: null, labels: {}, lastSeenAt: null, createdAt: '' }], nextCursor: null } },
      '/api/groups': { body: { items: [], nextCursor: null } },
      '/api/agents/bulk/revoke-cert': { body: { certificates: 1, agents: [], skipped: [] } },
    });
    globalThis.fetch = f.fn;
    renderAs('Operator', <FleetPage />, '/t/default/fleet');
    fireEvent.click(await screen.findByLabelText('Select edge-1'));
    fireEvent.click(screen.getByRole('button', { name: 'Revoke certificates' }));
    const dialog = screen.getByRole('alertdialog');
    expect(dialog.textContent).toContain('Revoke the certificates of 1 agent');
    const go = screen.getByRole('button', { name: 'Confirm' }) as HTMLButtonElement;
    expect(go.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText(/Type confirm/), { target: { value: 'confirm' } });
    expect(go.disabled).toBe(false);
    fireEvent.click(go);
    await waitFor(() => expect(f.calls.some((c) => c.url === '/api/agents/bulk/revoke-cert')).toBe(true));
    const call = f.calls.find((c) => c.url === '/api/agents/bulk/revoke-cert')!;
    expect(JSON.parse(String(call.init!.body))).toEqual({ agentIds: ['a1'], reason: 'cessationOfOperation' });
  });
});
