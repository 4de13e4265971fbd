import { ReactNode, useEffect, useState } from 'react';
import { Navigate, NavLink, Outlet, useLocation, useNavigate, useParams } from 'react-router-dom';
import { useLiveConnected } from '../api/live';
import { Role, useAuth } from '../auth/auth';
import { ErrorBoundary } from './ErrorBoundary';

type Theme = 'auto' | 'light' | 'dark';

function useTheme(): [Theme, (t: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('ampora.theme') as Theme) || 'auto');
  useEffect(() => {
    localStorage.setItem('ampora.theme', theme);
    if (theme === 'auto') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
  }, [theme]);
  return [theme, setTheme];
}

const NAV: Array<{ to: string; label: string; role?: Role }> = [
  { to: '', label: 'Dashboard' },
  { to: 'fleet', label: 'Fleet' },
  { to: 'groups', label: 'Groups' },
  { to: 'configurations', label: 'Configurations' },
  { to: 'rollouts', label: 'Rollouts' },
  { to: 'approvals', label: 'Approvals' },
  { to: 'policies', label: 'Policies' },
  { to: 'lint-rules', label: 'Lint rules' },
  { to: 'audit', label: 'Audit log' },
  { to: 'gitops', label: 'GitOps', role: 'Admin' },
  { to: 'federation', label: 'Federation', role: 'Admin' },
  { to: 'pki', label: 'PKI', role: 'Admin' },
  { to: 'tokens', label: 'Tokens', role: 'Admin' },
];

/** The console's frame: navigation, the role chip and tenant, the theme switch, sign-out. */
export function Layout({ children }: { children?: ReactNode }) {
  const { me, signOut, can, credential } = useAuth();
  const { tenant } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const live = useLiveConnected();
  const [theme, setTheme] = useTheme();
  const base = `/t/${encodeURIComponent(tenant ?? me?.tenantName ?? 'default')}`;
  useSlashFocusesSearch();
  // a credential belongs to one tenant: a URL naming another is rewritten, never shown with this one's data
  if (me && tenant !== undefined && tenant !== me.tenantName) {
    const rest = location.pathname.split('/').slice(3).join('/');
    return <Navigate replace to={`/t/${encodeURIComponent(me.tenantName)}${rest ? `/${rest}` : ''}${location.search}`} />;
  }
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Ampora</span>
        <span className="spacer" />
        <span className={`live-dot ${live ? 'on' : 'off'}`} role="status" aria-label={live ? 'Live updates connected' : 'Live updates disconnected'} title={live ? 'Live updates connected' : 'Live updates disconnected'} />
        <span className="tenant" aria-label="Tenant">
          {me?.tenantName}
        </span>
        <span className={`role-chip role-${me?.role?.toLowerCase()}`} aria-label={`Role: ${me?.role}`} data-testid="role-chip">
          {me?.role}
        </span>
        <span className="actor" title="Signed in as">
          {me?.actor}
        </span>
        <label className="theme">
          <span className="sr-only">Theme</span>
          <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)} aria-label="Theme">
            <option value="auto">Auto</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            const idpSignOut = credential?.signOutUrl;
            signOut();
            if (idpSignOut) window.location.assign(idpSignOut);
            else navigate('/sign-in');
          }}
        >
          Sign out
        </button>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.filter((n) => !n.role || can(n.role)).map((n) => (
            <li key={n.to}>
              <NavLink end={n.to === ''} to={n.to ? `${base}/${n.to}` : base}>
                {n.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <ErrorBoundary resetKey={location.pathname}>{children ?? <Outlet />}</ErrorBoundary>
      </main>
    </div>
  );
}

/** `/` focuses the page's search box (outside text fields), as in most consoles. */
function useSlashFocusesSearch(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) return;
      const search = document.querySelector<HTMLInputElement>('input[type="search"]');
      if (search) {
        e.preventDefault();
        search.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

/** `/t/<tenant>/<path>` for the current tenant. */
export function useTenantPath(): (path?: string) => string {
  const { tenant } = useParams();
  const { me } = useAuth();
  const base = `/t/${encodeURIComponent(tenant ?? me?.tenantName ?? 'default')}`;
  return (path = '') => (path ? `${base}/${path.replace(/^\//, '')}` : base);
}
