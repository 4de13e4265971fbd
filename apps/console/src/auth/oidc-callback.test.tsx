import { afterEach, describe, expect, it } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes, useLocation } from 'react-router-dom';
import { AuthProvider } from './auth';
import { OidcSignInInfo, startOidcSignIn } from './oidc';
import { readCredential } from './session';
import { OidcCallback } from '../pages/SignIn';

const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const jwt = (payload: Record<string, unknown>) => `${b64({ alg: 'RS256' })}.${b64(payload)}.sig`;

const info: OidcSignInInfo = { issuer: 'https://idp', clientId: 'console', scopes: 'openid', audience: 'ampora-api', authorizationEndpoint: 'https://idp/authorize', tokenEndpoint: 'https://idp/token', endSessionEndpoint: null };

function Where() {
  const l = useLocation();
  return <p data-testid="where">{l.pathname}</p>;
}

function callbackAt(url: string) {
  return render(
    <QueryClientProvider client={new QueryClient()}>
      <MemoryRouter initialEntries={[url]}>
        <AuthProvider>
          <Routes>
            <Route path="/sign-in/callback" element={<OidcCallback />} />
            <Route path="*" element={<Where />} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('OidcCallback', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('exchanges the code, signs in with the API\'s token and goes where the user was going', async () => {
    let target = '';
    await startOidcSignIn(info, '/t/acme/rollouts', (u) => (target = u));
    const sent = new URL(target).searchParams;
    const access = jwt({ aud: 'ampora-api', sub: 'olivia' });
    const seen: Array<{ url: string; auth?: string }> = [];
    globalThis.fetch = (async (url: string, init?: RequestInit) => {
      seen.push({ url: String(url), auth: (init?.headers as Record<string, string> | undefined)?.authorization });
      if (String(url) === 'https://idp/token') return new Response(JSON.stringify({ access_token: access, id_token: jwt({ aud: 'console', nonce: sent.get('nonce') }) }));
      return new Response(JSON.stringify({ kind: 'oidc', tenantId: 't', tenantName: 'acme', role: 'Operator', actor: 'olivia' }), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    callbackAt(`/sign-in/callback?code=abc&state=${sent.get('state')}`);
    await waitFor(() => expect(screen.getByTestId('where').textContent).toBe('/t/acme/rollouts'));
    expect(readCredential()).toEqual({ kind: 'oidc', token: access });
    expect(seen.map((s) => s.url)).toEqual(['https://idp/token', '/api/me']);
    expect(seen[1]!.auth).toBe(`Bearer ${access}`);
  });

  it('shows why the sign-in failed and keeps no credential', async () => {
    await startOidcSignIn(info, undefined, () => undefined);
    callbackAt('/sign-in/callback?code=abc&state=not-ours');
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('state mismatch');
    expect(readCredential()).toBeNull();
    expect(screen.getByRole('link', { name: 'Back to sign-in' })).toBeTruthy();
  });
});
