import { afterEach, describe, expect, it } from 'vitest';
import { act, fireEvent, renderHook, screen, waitFor } from '@testing-library/react';
import { MemoryRouter, useLocation } from 'react-router-dom';
import { ReactNode } from 'react';
import { fakeFetch, renderAs } from '../test/render';
import { useUrlFilters } from '../lib/useUrlFilters';
import { FleetPage } from '../pages/Fleet';
import { GroupsPage } from '../pages/Groups';

const agent = (id: string, name: string, peer?: string) => ({ id, instanceUid: 'u', displayName: name, agentType: 't', agentVersion: '1', status: 'connected', healthy: true, remoteConfigStatus: null, drift: false, groupId: null, labels: {}, lastSeenAt: null, createdAt: '', ...(peer ? { peer } : {}) });
const configurations = { items: [{ id: 'c1', name: 'payments', description: '', createdAt: '' }], nextCursor: null };
const versions = {
  items: [
    { id: 'v1', number: 1, status: 'Published', hash: 'h', errorCount: 0, warningCount: 0, createdBy: 'x', createdAt: '', publishedAt: '' },
    { id: 'v2', number: 2, status: 'Draft', hash: 'h2', errorCount: 0, warningCount: 0, createdBy: 'x', createdAt: '', publishedAt: null },
  ],
  nextCursor: null,
};

describe('bulk assignment', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('assigns a Published version to the selected agents in one request, after a confirmation naming the count', async () => {
    const f = fakeFetch({
      '/api/agents': { body: { items: [agent('a1', 'edge-1'), agent('a2', 'edge-2')], nextCursor: null } },
      '/api/groups': { body: { items: [], nextCursor: null } },
      '/api/configurations': { body: configurations },
      '/api/configurations/c1/versions': { body: versions },
      '/api/agents/bulk/assign': { body: { versionId: 'v1', configHash: 'h', agents: 2, changed: 1, dispatch: { deniedByPolicy: [] } } },
    });
    globalThis.fetch = f.fn;
    renderAs('Operator', <FleetPage />, '/t/default/fleet');
    await screen.findByText('edge-2');
    fireEvent.click(screen.getByLabelText('Select every agent on this page'));
    await screen.findByRole('option', { name: 'payments' });
    fireEvent.change(screen.getByLabelText('Configuration to assign'), { target: { value: 'c1' } });
    await screen.findByRole('option', { name: 'v1' });
    // a Draft is not offered
    expect(screen.queryByRole('option', { name: 'v2' })).toBeNull();
    fireEvent.change(screen.getByLabelText('Version to assign'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign to selected' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('Assign payments v1 to 2 agents?');
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await screen.findByText('Assigned payments v1 to 2 agents (1 changed).');
    const call = f.calls.find((c) => c.url === '/api/agents/bulk/assign')!;
    expect(call.init!.method).toBe('POST');
    expect(JSON.parse(String(call.init!.body))).toEqual({ agentIds: ['a1', 'a2'], configurationId: 'c1', version: 1 });
  });

  it('assigns to each selected group and names the ones refused', async () => {
    const group = (id: string, name: string) => ({ id, name, description: '', kind: 'Static', selector: null, memberCount: 1, assignment: null });
    const f = fakeFetch({
      '/api/groups': { body: { items: [group('g1', 'eu'), group('g2', 'us')], nextCursor: null } },
      '/api/configurations': { body: configurations },
      '/api/configurations/c1/versions': { body: versions },
      '/api/groups/g1/assignment': { body: {} },
      '/api/groups/g2/assignment': { status: 409, type: 'application/problem+json', body: { title: 'Conflict', status: 409, detail: 'The group is being rolled out', code: 'GROUP_ROLLOUT_ACTIVE' } },
    });
    globalThis.fetch = f.fn;
    renderAs('Operator', <GroupsPage />, '/t/default/groups');
    await screen.findByText('us');
    fireEvent.click(screen.getByLabelText('Select every group'));
    await screen.findByRole('option', { name: 'payments' });
    fireEvent.change(screen.getByLabelText('Configuration to assign'), { target: { value: 'c1' } });
    await screen.findByRole('option', { name: 'v1' });
    fireEvent.change(screen.getByLabelText('Version to assign'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign to selected' }));
    expect(screen.getByRole('alertdialog').textContent).toContain('to 2 groups?');
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('1 of 2 groups were not assigned (1 were)');
    expect(alert.textContent).toContain('us');
    expect(alert.textContent).toContain('GROUP_ROLLOUT_ACTIVE');
    expect(f.calls.filter((c) => c.url.endsWith('/assignment')).map((c) => [c.url, c.init!.method])).toEqual([
      ['/api/groups/g1/assignment', 'PUT'],
      ['/api/groups/g2/assignment', 'PUT'],
    ]);
  });

  it('is disabled for a Viewer with the reason', async () => {
    globalThis.fetch = fakeFetch({ '/api/agents': { body: { items: [agent('a1', 'edge-1')], nextCursor: null } }, '/api/groups': { body: { items: [], nextCursor: null } }, '/api/configurations': { body: configurations } }).fn;
    renderAs('Viewer', <FleetPage />, '/t/default/fleet');
    await screen.findByText('edge-1');
    const assign = screen.getByRole('button', { name: /Assign to selected/ }) as HTMLButtonElement;
    expect(assign.disabled).toBe(true);
    expect(assign.title).toBe('Needs the Operator role');
  });
});

describe('the federated fleet view', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('asks for the peers\' agents, badges them, says how each peer answered, and keeps them out of bulk actions', async () => {
    const f = fakeFetch({
      '/api/agents': {
        body: {
          items: [agent('a1', 'edge-1'), agent('peer:us/x1', 'us-edge-1', 'us')],
          nextCursor: null,
          federation: { included: true, peers: [{ peer: 'us', status: 'ok', durationMs: 12, items: 1 }, { peer: 'ap', status: 'down', reason: 'circuit open', durationMs: 0, items: 0 }] },
        },
      },
      '/api/groups': { body: { items: [], nextCursor: null } },
    });
    globalThis.fetch = f.fn;
    renderAs('Operator', <FleetPage />, '/t/default/fleet?includeFederation=true');
    await screen.findByText('us-edge-1');
    expect(f.calls.find((c) => c.url.startsWith('/api/agents?'))!.url).toContain('includeFederation=true');
    const status = screen.getByRole('status', { name: 'Federation' });
    expect(status.textContent).toContain('Includes federation');
    expect(status.textContent).toContain('circuit open');
    expect(screen.queryByLabelText('Select us-edge-1')).toBeNull();
    expect(screen.getByRole('link', { name: 'edge-1' })).toBeTruthy();
    expect(screen.queryByRole('link', { name: 'us-edge-1' })).toBeNull();
    fireEvent.click(screen.getByLabelText('Select every agent on this page'));
    expect(screen.getByText('1 agent selected')).toBeTruthy();
  });
});

describe('useUrlFilters', () => {
  function Where({ children }: { children?: ReactNode }) {
    const l = useLocation();
    return (
      <>
        <p data-testid="where">{l.search}</p>
        {children}
      </>
    );
  }
  const wrapper = (initial: string) =>
    function W({ children }: { children: ReactNode }) {
      return (
        <MemoryRouter initialEntries={[initial]}>
          <Where>{children}</Where>
        </MemoryRouter>
      );
    };

  it('reads the filters and cursor from the URL, pages forward and back, and resets the page on new filters', async () => {
    const { result } = renderHook(() => useUrlFilters(['actor', 'action'] as const), { wrapper: wrapper('/x?actor=alice&other=keep') });
    expect(result.current.filters).toEqual({ actor: 'alice', action: '' });
    expect(result.current.cursor).toBeUndefined();
    act(() => result.current.next('c2'));
    await waitFor(() => expect(result.current.cursor).toBe('c2'));
    act(() => result.current.next('c3'));
    await waitFor(() => expect(result.current.cursor).toBe('c3'));
    expect(result.current.hasPrevious).toBe(true);
    act(() => result.current.back());
    await waitFor(() => expect(result.current.cursor).toBe('c2'));
    act(() => result.current.back());
    await waitFor(() => expect(result.current.cursor).toBeUndefined());
    expect(result.current.hasPrevious).toBe(false);
    act(() => result.current.next('c2'));
    act(() => result.current.set({ actor: ' bob ', action: 'Created' }));
    await waitFor(() => expect(result.current.filters).toEqual({ actor: 'bob', action: 'Created' }));
    expect(result.current.cursor).toBeUndefined();
    expect(result.current.hasPrevious).toBe(false);
    expect(screen.getByTestId('where').textContent).toContain('other=keep');
    act(() => result.current.set({ actor: '' }));
    await waitFor(() => expect(result.current.filters.actor).toBe(''));
  });
});
