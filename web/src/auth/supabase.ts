// Supabase Auth, loaded only when the deployment uses it (client-config says so), so
// development builds never download it. PKCE: a magic link comes back with a one-time
// code in the URL, not a token; supabase-js exchanges it.
import type { SupabaseClient } from '@supabase/supabase-js';
import { setRefresher, setSession } from './token.ts';

let client: Promise<SupabaseClient> | null = null;

export function supabase(url: string, anonKey: string): Promise<SupabaseClient> {
  client ??= import('@supabase/supabase-js').then(({ createClient }) => {
    const c = createClient(url, anonKey, {
      auth: { flowType: 'pkce', persistSession: true, autoRefreshToken: true, detectSessionInUrl: true, storage: sessionStorage },
    });
    setRefresher(async () => (await c.auth.getSession()).data.session?.access_token ?? null);
    c.auth.onAuthStateChange((_event, session) => {
      if (session) {
        setSession({
          access_token: session.access_token,
          expires_at: session.expires_at ? new Date(session.expires_at * 1000).toISOString() : null,
          source: 'supabase',
        });
      } else setSession(null);
    });
    return c;
  });
  return client;
}
