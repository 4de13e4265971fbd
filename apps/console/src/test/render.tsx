import { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { atLeast, Auth, AuthContext, Role } from '../auth/auth';

/** Renders `ui` inside the console's providers, signed in with `role` (or signed out with null). */
export function renderAs(role: Role | null, ui: ReactElement, path = '/t/default') {
  const auth: Auth = {
    me: role ? { kind: 'pat', tenantId: '00000000-0000-4000-8000-000000000000', tenantName: 'default', role, actor: 'tester' } : null,
    credential: role ? { kind: 'pat', token: 'amp-pat-test' } : null,
    signIn: async () => {
      throw new Error('not in this test');
    },
    signOut: () => undefined,
    can: (r) => atLeast(role ?? undefined, r),
    loading: false,
  };
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>
        <AuthContext.Provider value={auth}>{ui}</AuthContext.Provider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

/** A fetch that answers JSON per path (`status` 200 unless given) and records every call. */
export function fakeFetch(routes: Record<string, { status?: number; body: unknown; type?: string }>) {
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const fn = async (url: string | URL | Request, init?: RequestInit) => {
    const u = String(url);
    calls.push({ url: u, init });
    const key = Object.keys(routes).find((k) => u.split('?')[0] === k);
    const r = key ? routes[key]! : { status: 404, body: { title: 'Not Found', status: 404, code: 'NOT_FOUND' }, type: 'application/problem+json' };
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'content-type': r.type ?? 'application/json' } });
  };
  return { fn: fn as typeof fetch, calls };
}
