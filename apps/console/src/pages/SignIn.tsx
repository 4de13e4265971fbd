import { FormEvent, useEffect, useState } from 'react';
import { useLocation, useNavigate } from 'react-router-dom';
import { useQuery } from '@tanstack/react-query';
import { useAuth } from '../auth/auth';
import { completeOidcSignIn, fetchOidcSignIn, startOidcSignIn } from '../auth/oidc';
import { Loading } from '../components/Badge';
import { ProblemView } from '../components/ProblemView';

function destination(from: string | undefined, tenantName: string): string {
  return from && from.startsWith('/t/') ? from : `/t/${encodeURIComponent(tenantName)}`;
}

/**
 * Sign-in with the identity provider (OIDC, when the server names one) or a personal access token;
 * either credential stays in this tab's session storage only.
 */
export function SignIn() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from;
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const oidc = useQuery({ queryKey: ['oidc-sign-in'], queryFn: fetchOidcSignIn, staleTime: 60_000, retry: false });

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await signIn({ kind: 'pat', token: token.trim() });
      setToken('');
      navigate(destination(from, me.tenantName), { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function withIdp() {
    if (!oidc.data) return;
    setBusy(true);
    setError(null);
    try {
      await startOidcSignIn(oidc.data, from);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  return (
    <main className="signin" id="main">
      <div className="panel signin-panel">
        <h1 id="signin-title">Sign in to Ampora</h1>
        {oidc.data && (
          <section aria-label="Single sign-on" className="stack">
            <button type="button" className="primary" onClick={withIdp} disabled={busy}>
              Sign in with your identity provider
            </button>
            <p className="muted">
              Signs in at <code>{oidc.data.issuer}</code> and comes back here.
            </p>
          </section>
        )}
        <ProblemView error={oidc.error} />
        <form onSubmit={submit} aria-labelledby="signin-title">
          <p className="muted">Paste a personal access token. It is kept in this browser tab only and sent to the API in a header.</p>
          <label htmlFor="pat">Personal access token</label>
          <input id="pat" name="pat" type="password" autoComplete="off" spellCheck={false} required value={token} onChange={(e) => setToken(e.target.value)} />
          <button type="submit" className={oidc.data ? undefined : 'primary'} disabled={busy || !token.trim()}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
        <ProblemView error={error} />
      </div>
    </main>
  );
}

const exchanges = new Map<string, ReturnType<typeof completeOidcSignIn>>();
function completeOnce(search: string): ReturnType<typeof completeOidcSignIn> {
  let p = exchanges.get(search);
  if (!p) {
    p = completeOidcSignIn(search);
    exchanges.set(search, p);
  }
  return p;
}

/** `/sign-in/callback`: where the identity provider sends the browser back with the code. */
export function OidcCallback() {
  const { signIn } = useAuth();
  const navigate = useNavigate();
  const location = useLocation();
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let live = true;
    // the code is single-use: one exchange per callback URL, however often the effect runs
    completeOnce(location.search)
      .then(async ({ credential, from }) => {
        const me = await signIn(credential);
        if (live) navigate(destination(from, me.tenantName), { replace: true });
      })
      .catch((e: unknown) => live && setError(e));
    return () => {
      live = false;
    };
    // once per callback URL (completeOnce also guards a second run of the effect)
  }, [location.search]);

  return (
    <main className="signin" id="main">
      <div className="panel signin-panel">
        <h1>Signing in</h1>
        {error ? (
          <>
            <ProblemView error={error} />
            <p>
              <a href="/sign-in">Back to sign-in</a>
            </p>
          </>
        ) : (
          <Loading what="Finishing the sign-in" />
        )}
      </div>
    </main>
  );
}
