// Who is signed in: the token (auth/token.ts) and the profile from GET /users/me,
// which also creates the user on first sight (so others can invite them by AuraID).
import { createContext, type ReactNode, useCallback, useContext, useEffect, useState, useSyncExternalStore } from 'react';
import { api, ApiError, type Me, unwrap } from '../api/api.ts';
import { useClientConfig } from '../app/config.tsx';
import { getSession, onSessionChange, setSession } from './token.ts';
import { supabase } from './supabase.ts';

interface SessionState {
  me: Me | null;
  loading: boolean;
  error: unknown;
  signOut(): void;
  reload(): void;
}

const Ctx = createContext<SessionState | null>(null);

export function useSession(): SessionState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

export function useToken(): string | null {
  return useSyncExternalStore(onSessionChange, () => getSession()?.access_token ?? null);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const config = useClientConfig();
  const token = useToken();
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    // Supabase restores its own session (and finishes a magic-link sign-in) on load.
    if (config.auth.mode === 'supabase' && config.auth.supabase_url && config.auth.supabase_anon_key) {
      void supabase(config.auth.supabase_url, config.auth.supabase_anon_key);
    }
  }, [config]);

  const signedIn = token !== null;
  useEffect(() => {
    if (!signedIn) {
      setMe(null);
      return;
    }
    let live = true;
    setLoading(true);
    setError(null);
    api
      .GET('/api/v1/users/me')
      .then((r) => live && setMe(unwrap(r)))
      .catch((err) => {
        if (!live) return;
        if (err instanceof ApiError && err.status === 401) setSession(null);
        else setError(err);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [signedIn, attempt]);

  const signOut = useCallback(() => {
    if (config.auth.mode === 'supabase' && config.auth.supabase_url && config.auth.supabase_anon_key) {
      void supabase(config.auth.supabase_url, config.auth.supabase_anon_key).then((c) => c.auth.signOut());
    }
    setSession(null);
  }, [config]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);

  return <Ctx.Provider value={{ me, loading, error, signOut, reload }}>{children}</Ctx.Provider>;
}
