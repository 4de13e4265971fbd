import { afterEach, describe, expect, it } from 'vitest';
import { screen, within } from '@testing-library/react';
import { fakeFetch, renderAs } from '../test/render';
import { Dashboard } from './Dashboard';

describe('Dashboard', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('shows the fleet counts, the active rollouts and only the approvals others asked for', async () => {
    const counts = { total: 12, connected: 9, stale: 1, disconnected: 2, healthy: 8, unhealthy: 1, healthUnknown: 3 };
    const rollout = { id: 'r1', name: 'payments canary', state: 'InProgress', counts: { pending: 2, applying: 1, applied: 3, failed: 0, skipped: 0, disconnectedSincePush: 0, total: 6 } };
    const approval = (id: string, title: string, actor: string) => ({ id, title, requiredRole: 'Admin', authors: [{ actor }], subjectKind: 'Policy', status: 'Pending' });
    globalThis.fetch = fakeFetch({
      '/api/agents/summary': { body: counts },
      '/api/rollouts': { body: { items: [rollout], nextCursor: null } },
      '/api/audit/events': { body: { items: [{ id: 'e1', actor: 'alice', entityType: 'Rollout', action: 'Started', timestamp: new Date().toISOString() }], nextCursor: null } },
      '/api/approvals': { body: { items: [approval('p1', 'Policy no-debug', 'alice'), approval('p2', 'Policy mine', 'tester')], nextCursor: null } },
    }).fn;
    renderAs('Admin', <Dashboard />);
    const agents = await screen.findByRole('region', { name: 'Agents' });
    expect(await within(agents).findByText('12')).toBeTruthy();
    expect(within(agents).getByText('unhealthy').previousSibling?.textContent).toBe('1');
    expect(await screen.findAllByText('payments canary')).toHaveLength(1);
    expect(screen.getAllByRole('progressbar')[0]!.getAttribute('aria-valuenow')).toBe('50');
    expect(await screen.findByText('Policy no-debug')).toBeTruthy();
    expect(screen.queryByText('Policy mine')).toBeNull();
    expect(screen.getByText('Rollout Started')).toBeTruthy();
  });
});
