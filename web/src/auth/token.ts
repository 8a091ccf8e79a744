// The signed-in session: in memory, mirrored to sessionStorage so a reload of the tab
// keeps it (and closing the tab ends it). Never in a URL, never in localStorage.
export interface StoredSession {
  access_token: string;
  /** ISO time; the token is dropped once it has passed. */
  expires_at: string | null;
  source: 'development' | 'supabase' | 'external';
}

const KEY = 'auralink.session';
let current: StoredSession | null = load();
/** Supabase refreshes its tokens itself; when it is in use, ask it on every request. */
let refresher: (() => Promise<string | null>) | null = null;
const listeners = new Set<() => void>();

function load(): StoredSession | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    const s = raw ? (JSON.parse(raw) as StoredSession) : null;
    return s && !expired(s) ? s : null;
  } catch {
    return null;
  }
}

function expired(s: StoredSession): boolean {
  return s.expires_at !== null && Date.parse(s.expires_at) <= Date.now();
}

export function getSession(): StoredSession | null {
  if (current && expired(current)) setSession(null);
  return current;
}

export function setSession(s: StoredSession | null): void {
  current = s;
  try {
    if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage can be off (private modes): the session then lives in memory only.
  }
  for (const l of listeners) l();
}

export function setRefresher(fn: (() => Promise<string | null>) | null): void {
  refresher = fn;
}

export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The token for the next request, or null when signed out. */
export async function currentToken(): Promise<string | null> {
  if (refresher && current?.source === 'supabase') {
    const fresh = await refresher();
    if (fresh && fresh !== current.access_token) setSession({ ...current, access_token: fresh });
    return fresh;
  }
  return getSession()?.access_token ?? null;
}

/** The expiry claim of a JWT, read without verifying (the server verifies). */
export function jwtExpiry(token: string): string | null {
  try {
    const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
    return typeof payload.exp === 'number' ? new Date(payload.exp * 1000).toISOString() : null;
  } catch {
    return null;
  }
}
