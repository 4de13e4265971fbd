import { describe, expect, it } from 'vitest';
import { fireEvent, screen } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { renderAs } from '../test/render';
import { Layout } from './Layout';

function Here() {
  const l = useLocation();
  return (
    <>
      <p data-testid="here">{l.pathname + l.search}</p>
      <input type="search" aria-label="Search" />
    </>
  );
}

const routes = (
  <Routes>
    <Route path="/t/:tenant" element={<Layout />}>
      <Route path="*" element={<Here />} />
    </Route>
  </Routes>
);

describe('Layout', () => {
  it('shows the role chip and tenant, and hides the Admin-only areas from an Operator', async () => {
    renderAs('Operator', routes, '/t/default/fleet');
    expect(screen.getByTestId('role-chip').textContent).toBe('Operator');
    expect(screen.getByLabelText('Tenant').textContent).toBe('default');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    expect(nav.textContent).toContain('Fleet');
    expect(nav.textContent).not.toContain('Tokens');
    expect(nav.textContent).not.toContain('PKI');
  });

  it('rewrites a URL naming another tenant to the credential\'s own, keeping the path and filters', async () => {
    renderAs('Admin', routes, '/t/someone-else/fleet?status=stale');
    expect((await screen.findByTestId('here')).textContent).toBe('/t/default/fleet?status=stale');
    expect(screen.getByRole('navigation', { name: 'Main' }).textContent).toContain('Tokens');
  });

  it('focuses the search box on /', async () => {
    renderAs('Viewer', routes, '/t/default/fleet');
    fireEvent.keyDown(document.body, { key: '/' });
    expect(document.activeElement).toBe(screen.getByLabelText('Search'));
  });
});
