/**
 * OIDC sign-in with the authorization code flow and PKCE (S256) as a public client (decision 0385).
 * The server names the issuer, the client id and the endpoints (`GET /api/auth/oidc`); the console
 * sends the browser to the authorization endpoint, exchanges the code at the token endpoint itself,
 * and calls the API with the token whose audience is the API's. The verifier, state and nonce live in
 * sessionStorage for the round trip only, never in a URL the console builds.
 */
import { get } from '../api/client';
import { ApiError } from '../api/problem';
import { Credential } from './session';

export interface OidcSignInInfo {
  issuer: string;
  clientId: string;
  scopes: string;
  audience: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  endSessionEndpoint: string | null;
}

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  tokenEndpoint: string;
  clientId: string;
  audience: string;
  signOutUrl?: string;
  from?: string;
}

const FLOW_KEY = 'ampora.oidc-flow';
export const CALLBACK_PATH = '/sign-in/callback';

/** `n` random bytes as base64url (no padding): verifiers, states and nonces. */
export function randomToken(bytes = 32): string {
  const b = new Uint8Array(bytes);
  crypto.getRandomValues(b);
  return base64url(b);
}

export function base64url(bytes: Uint8Array): string {
  let s = '';
  bytes.forEach((x) => (s += String.fromCharCode(x)));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The S256 code challenge of a verifier (RFC 7636 §4.2). */
export async function s256Challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The authorization request URL. */
export function authorizationUrl(info: OidcSignInInfo, p: { redirectUri: string; state: string; nonce: string; challenge: string }): string {
  const url = new URL(info.authorizationEndpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', info.clientId);
  url.searchParams.set('redirect_uri', p.redirectUri);
  url.searchParams.set('scope', info.scopes);
  url.searchParams.set('state', p.state);
  url.searchParams.set('nonce', p.nonce);
  url.searchParams.set('code_challenge', p.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

/** RP-initiated logout: back to the console's sign-in page afterwards. */
export function endSessionUrl(endpoint: string, clientId: string): string {
  const url = new URL(endpoint);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('post_logout_redirect_uri', `${window.location.origin}/sign-in`);
  return url.toString();
}

/** The payload of a JWT, unverified (the API verifies it; the console only reads `aud` and `nonce`). */
export function jwtPayload(token: string | undefined): Record<string, unknown> | null {
  const part = token?.split('.')[1];
  if (!part || token!.split('.').length !== 3) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (part.length % 4)) % 4));
    const v = JSON.parse(json) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function audienceHas(payload: Record<string, unknown> | null, audience: string): boolean {
  const aud = payload?.aud;
  return Array.isArray(aud) ? aud.includes(audience) : aud === audience;
}

/**
 * Which token the console sends to the API: the access token when it is a JWT for the API's audience
 * (most IdPs with an API audience), else the ID token when its audience is the API's (the client id
 * is the audience); otherwise there is none the API would accept.
 */
export function chooseBearer(tokens: { access_token?: string; id_token?: string }, audience: string): string | null {
  if (audienceHas(jwtPayload(tokens.access_token), audience)) return tokens.access_token!;
  if (audienceHas(jwtPayload(tokens.id_token), audience)) return tokens.id_token!;
  return null;
}

function fail(title: string, detail: string, code: string): never {
  throw new ApiError({ title, status: 0, detail, code });
}

/** Asks the server whether OIDC sign-in is configured: its settings, or null when it is not. */
export async function fetchOidcSignIn(): Promise<OidcSignInInfo | null> {
  const answer = await get<({ enabled: true } & OidcSignInInfo) | { enabled: false }>('/api/auth/oidc');
  return answer.enabled ? answer : null;
}

/** Starts the flow: keeps the verifier, state and nonce for this tab and sends the browser to the issuer. */
export async function startOidcSignIn(info: OidcSignInInfo, from: string | undefined, go: (url: string) => void = (u) => window.location.assign(u)): Promise<void> {
  const verifier = randomToken(32);
  const flow: Flow = {
    state: randomToken(16),
    nonce: randomToken(16),
    verifier,
    redirectUri: `${window.location.origin}${CALLBACK_PATH}`,
    tokenEndpoint: info.tokenEndpoint,
    clientId: info.clientId,
    audience: info.audience,
    signOutUrl: info.endSessionEndpoint ? endSessionUrl(info.endSessionEndpoint, info.clientId) : undefined,
    from,
  };
  sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
  go(authorizationUrl(info, { redirectUri: flow.redirectUri, state: flow.state, nonce: flow.nonce, challenge: await s256Challenge(verifier) }));
}

/**
 * Finishes the flow on the callback page: checks the state, exchanges the code with the verifier,
 * checks the ID token's nonce and answers the credential to sign in with and where to go next.
 * The stored flow is removed whatever happens, so a code or a state is never used twice.
 */
export async function completeOidcSignIn(search: string): Promise<{ credential: Credential; from?: string }> {
  const raw = sessionStorage.getItem(FLOW_KEY);
  sessionStorage.removeItem(FLOW_KEY);
  const q = new URLSearchParams(search);
  const flow = raw ? (JSON.parse(raw) as Flow) : null;
  if (!flow) fail('Sign-in was not started here', 'This tab has no sign-in in progress; start again from the sign-in page.', 'OIDC_NO_FLOW');
  if (q.get('state') !== flow.state) fail('Sign-in refused', 'The answer from the identity provider does not belong to this sign-in (state mismatch).', 'OIDC_STATE_MISMATCH');
  const error = q.get('error');
  if (error) fail('The identity provider refused the sign-in', q.get('error_description') ?? error, error);
  const code = q.get('code');
  if (!code) fail('Sign-in refused', 'The identity provider sent no authorization code.', 'OIDC_NO_CODE');
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: flow.redirectUri, client_id: flow.clientId, code_verifier: flow.verifier });
  let res: Response;
  try {
    res = await fetch(flow.tokenEndpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: body.toString() });
  } catch (e) {
    fail('The token endpoint cannot be reached', String(e), 'OIDC_TOKEN_UNREACHABLE');
  }
  const answer = (await res.json().catch(() => ({}))) as { access_token?: string; id_token?: string; error?: string; error_description?: string };
  if (!res.ok) fail('The identity provider refused the code', answer.error_description ?? answer.error ?? `HTTP ${res.status}`, answer.error ?? 'OIDC_TOKEN_REFUSED');
  const id = jwtPayload(answer.id_token);
  if (id && id.nonce !== flow.nonce) fail('Sign-in refused', 'The ID token was not issued for this sign-in (nonce mismatch).', 'OIDC_NONCE_MISMATCH');
  const token = chooseBearer(answer, flow.audience);
  if (!token) fail('No usable token', `The identity provider issued no token for the API's audience ${flow.audience}.`, 'OIDC_NO_API_TOKEN');
  return { credential: { kind: 'oidc', token, ...(flow.signOutUrl ? { signOutUrl: flow.signOutUrl } : {}) }, from: flow.from };
}
