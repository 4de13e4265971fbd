import { afterEach, describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { fakeFetch, renderAs } from '../test/render';
import { RolloutTargets, TARGETS_PAGE } from './Rollout';

const target = (n: number) => ({ agentId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, displayName: `edge-${n}`, step: 0, position: n, state: 'Applied', reason: null, deniedByPolicy: null });

describe('RolloutTargets', () => {
  const real = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = real;
  });

  it('pages past the first 200 targets with the API\'s nextAfter, and back', async () => {
    const calls: string[] = [];
    const first = fakeFetch({ '/api/rollouts/r1/targets': { body: { items: Array.from({ length: TARGETS_PAGE }, (_, i) => target(i)), nextAfter: 199 } } });
    const second = fakeFetch({ '/api/rollouts/r1/targets': { body: { items: [target(200), target(201)], nextAfter: null } } });
    globalThis.fetch = ((url: string, init?: RequestInit) => {
      calls.push(String(url));
      return String(url).includes('after=199') ? second.fn(url, init) : first.fn(url, init);
    }) as typeof fetch;
    const counts = { pending: 0, applying: 0, applied: 202, failed: 0, skipped: 0, disconnectedSincePush: 0, total: 202 };
    renderAs('Viewer', <RolloutTargets rolloutId="r1" counts={counts} stepCount={2} />, '/t/default/rollouts/r1');
    await screen.findByText('edge-199');
    expect(screen.getByText('202 applied of 202')).toBeTruthy();
    expect(calls[0]).toContain('limit=200');
    fireEvent.click(screen.getByRole('button', { name: 'Next targets' }));
    await screen.findByText('edge-201');
    expect(screen.queryByText('edge-0')).toBeNull();
    expect((screen.getByRole('button', { name: 'Next targets' }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Previous targets' }));
    await screen.findByText('edge-0');
    expect(calls.at(-1)).not.toContain('after=');
  }, 30000);

  it('filters by state and step through the API', async () => {
    const f = fakeFetch({ '/api/rollouts/r1/targets': { body: { items: [], nextAfter: null } } });
    globalThis.fetch = f.fn;
    const counts = { pending: 1, applying: 0, applied: 0, failed: 2, skipped: 0, disconnectedSincePush: 0, total: 3 };
    renderAs('Viewer', <RolloutTargets rolloutId="r1" counts={counts} stepCount={2} />, '/t/default/rollouts/r1');
    await screen.findByText('No target matches.');
    fireEvent.change(screen.getByLabelText('State'), { target: { value: 'Failed' } });
    fireEvent.change(screen.getByLabelText('Step'), { target: { value: '1' } });
    fireEvent.click(screen.getByRole('button', { name: 'Show targets' }));
    await waitFor(() => expect(f.calls.some((c) => c.url.includes('state=Failed') && c.url.includes('step=1'))).toBe(true));
  });
});
