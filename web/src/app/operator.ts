// Whether the signed-in user is an operator. The service decides from the verified
// token alone and answers 404 on /api/v1/admin/* to everyone else, so the web app asks
// one cheap admin endpoint once per signed-in user instead of guessing from claims.
// Until the answer is in, and on any error, no operator UI is shown.
import { useEffect, useState } from 'react';
import { api } from '../api/api.ts';
import { useSession, useToken } from '../auth/session.tsx';

// by token: signing in again (e.g. as an operator) asks again
const answers = new Map<string, Promise<boolean>>();

const STORAGE_KEY = 'auralink.operator';

function probe(key: string): Promise<boolean> {
  let p = answers.get(key);
  if (!p) {
    // Remembered for the tab too, so that a reload does not ask again. Only what to
    // show is decided here: the service still answers 404 to a non-operator.
    const stored = sessionStorage.getItem(STORAGE_KEY);
    p =
      stored && stored.startsWith(`${key}=`)
        ? Promise.resolve(stored.endsWith('=1'))
        : api
            .GET('/api/v1/admin/rooms/live', { params: { query: { limit: 1 } } })
            .then((r) => {
              const yes = r.response.status === 200;
              if (yes || r.response.status === 404) sessionStorage.setItem(STORAGE_KEY, `${key}=${yes ? 1 : 0}`);
              return yes;
            })
            .catch(() => false);
    answers.set(key, p);
  }
  return p;
}

/** null while unknown; true only after the service answered an admin request with 200. */
export function useIsOperator(): boolean | null {
  const { me } = useSession();
  const token = useToken();
  // the token's tail identifies it well enough; the whole token is not copied around
  const key = me && token ? `${me.user_id}:${token.slice(-24)}` : null;
  const [state, setState] = useState<{ key: string; operator: boolean } | null>(null);
  useEffect(() => {
    if (!key) return;
    let live = true;
    void probe(key).then((operator) => live && setState({ key, operator }));
    return () => {
      live = false;
    };
  }, [key]);
  if (!key || !state || state.key !== key) return null;
  return state.operator;
}
