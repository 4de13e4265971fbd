import { createContext, ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { get, setUnauthorizedHandler } from '../api/client';
import { ApiError } from '../api/problem';
import { clearCredential, Credential, readCredential, saveCredential } from './session';

export type Role = 'Viewer' | 'Operator' | 'Admin';
const RANK: Record<Role, number> = { Viewer: 0, Operator: 1, Admin: 2 };

export interface Me {
  kind: 'pat' | 'oidc' | 'system';
  tenantId: string;
  tenantName: string;
  role: Role;
  actor: string;
}

export interface Auth {
  me: Me | null;
  credential: Credential | null;
  /** Signs in with a credential: asks GET /api/me, keeps the credential only when the API accepts it. */
  signIn(c: Credential): Promise<Me>;
  signOut(): void;
  /** True when the signed-in role is at least `role`. */
  can(role: Role): boolean;
  loading: boolean;
}

export const AuthContext = createContext<Auth | null>(null);

export function atLeast(role: Role | undefined, min: Role): boolean {
  return role !== undefined && RANK[role] >= RANK[min];
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [credential, setCredential] = useState<Credential | null>(() => readCredential());
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState<boolean>(() => readCredential() !== null);
  const queryClient = useQueryClient();

  const signOut = useCallback(() => {
    clearCredential();
    setCredential(null);
    setMe(null);
    queryClient.clear();
  }, [queryClient]);

  useEffect(() => setUnauthorizedHandler(signOut), [signOut]);

  useEffect(() => {
    if (!credential || me) return;
    let live = true;
    get<Me>('/api/me')
      .then((m) => live && setMe(m))
      .catch(() => live && signOut())
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [credential, me, signOut]);

  const signIn = useCallback(async (c: Credential) => {
    saveCredential(c);
    try {
      const m = await get<Me>('/api/me');
      setCredential(c);
      setMe(m);
      return m;
    } catch (e) {
      clearCredential();
      throw e instanceof ApiError ? e : new ApiError({ title: 'Sign-in failed', status: 0, detail: String(e) });
    }
  }, []);

  const value = useMemo<Auth>(() => ({ me, credential, signIn, signOut, can: (r) => atLeast(me?.role, r), loading }), [me, credential, signIn, signOut, loading]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}
