import { ReactNode } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router-dom';
import { LiveProvider } from './api/live';
import { useAuth } from './auth/auth';
import { Loading } from './components/Badge';
import { Layout } from './components/Layout';
import { AgentDetailPage } from './pages/AgentDetail';
import { AuditPage } from './pages/Audit';
import { ApprovalsPage } from './pages/Approvals';
import { ConfigurationPage } from './pages/Configuration';
import { ConfigurationsPage } from './pages/Configurations';
import { Dashboard } from './pages/Dashboard';
import { FleetPage } from './pages/Fleet';
import { GroupsPage } from './pages/Groups';
import { PoliciesPage } from './pages/Policies';
import { RolloutPage } from './pages/Rollout';
import { RolloutsPage } from './pages/Rollouts';
import { NewRolloutPage } from './pages/NewRollout';
import { OidcCallback, SignIn } from './pages/SignIn';
import { AdminListPage } from './pages/AdminLists';
import { FederationPage } from './pages/Federation';
import { LintRulesPage } from './pages/LintRules';

function RequireAuth({ children }: { children: ReactNode }) {
  const { me, credential, loading } = useAuth();
  const location = useLocation();
  if (credential && (loading || !me)) return <Loading what="Signing in" />;
  if (!me) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return <LiveProvider>{children}</LiveProvider>;
}

function Home() {
  const { me } = useAuth();
  return me ? <Navigate to={`/t/${encodeURIComponent(me.tenantName)}`} replace /> : <Navigate to="/sign-in" replace />;
}

export function App() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route path="/sign-in/callback" element={<OidcCallback />} />
      <Route path="/" element={<RequireAuth><Home /></RequireAuth>} />
      <Route
        path="/t/:tenant"
        element={
          <RequireAuth>
            <Layout />
          </RequireAuth>
        }
      >
        <Route index element={<Dashboard />} />
        <Route path="fleet" element={<FleetPage />} />
        <Route path="fleet/:id" element={<AgentDetailPage />} />
        <Route path="groups" element={<GroupsPage />} />
        <Route path="configurations" element={<ConfigurationsPage />} />
        <Route path="configurations/:id" element={<ConfigurationPage />} />
        <Route path="rollouts" element={<RolloutsPage />} />
        <Route path="rollouts/new" element={<NewRolloutPage />} />
        <Route path="rollouts/:id" element={<RolloutPage />} />
        <Route path="approvals" element={<ApprovalsPage />} />
        <Route path="policies" element={<PoliciesPage />} />
        <Route path="lint-rules" element={<LintRulesPage />} />
        <Route path="audit" element={<AuditPage />} />
        <Route path="federation" element={<FederationPage />} />
        <Route path="gitops" element={<AdminListPage kind="gitops" />} />
        <Route path="pki" element={<AdminListPage kind="pki" />} />
        <Route path="tokens" element={<AdminListPage kind="tokens" />} />
        <Route path="*" element={<p>Not found.</p>} />
      </Route>
      <Route path="*" element={<Home />} />
    </Routes>
  );
}
