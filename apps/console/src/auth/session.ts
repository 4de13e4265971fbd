/**
 * The signed-in credential: kept in sessionStorage (gone with the tab), never in the URL, never logged.
 * `kind` says whether it is a personal access token or an OIDC access token.
 */
const KEY = 'ampora.credential';

export interface Credential {
  kind: 'pat' | 'oidc';
  token: string;
  /** OIDC only: the issuer's end-session URL, visited on sign-out (single sign-out). */
  signOutUrl?: string;
}

export function readCredential(storage: Storage = sessionStorage): Credential | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as Credential;
    return typeof parsed.token === 'string' && parsed.token ? parsed : null;
  } catch {
    return null;
  }
}

export function saveCredential(c: Credential, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(c));
}

export function clearCredential(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}
