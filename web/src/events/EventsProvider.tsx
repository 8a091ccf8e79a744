// One event stream per signed-in tab, shared by every panel that wants live updates.
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import { useToken } from '../auth/session.tsx';
import { currentToken, setSession } from '../auth/token.ts';
import { type LiveEvent, openEventStream, type StreamStatus } from './stream.ts';

type Handler = (e: LiveEvent) => void;
interface EventsState {
  status: StreamStatus;
  subscribe(h: Handler): () => void;
}

const Ctx = createContext<EventsState>({ status: 'stopped', subscribe: () => () => {} });

export function EventsProvider({ children }: { children: ReactNode }) {
  const token = useToken();
  const signedIn = token !== null;
  const [status, setStatus] = useState<StreamStatus>('stopped');
  const handlers = useRef(new Set<Handler>());
  const [api] = useState(() => ({
    subscribe(h: Handler) {
      handlers.current.add(h);
      return () => {
        handlers.current.delete(h);
      };
    },
  }));
  useEffect(() => {
    if (!signedIn) return;
    return openEventStream({
      getToken: currentToken,
      onEvent: (e) => {
        for (const h of handlers.current) h(e);
      },
      onStatus: setStatus,
      onUnauthorized: () => setSession(null),
    });
  }, [signedIn]);
  return <Ctx.Provider value={{ status, subscribe: api.subscribe }}>{children}</Ctx.Provider>;
}

/** Calls `handler` for every live event (whose type starts with `prefix`, when given). */
export function useLiveEvents(handler: Handler, deps: unknown[] = []): StreamStatus {
  const { status, subscribe } = useContext(Ctx);
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => subscribe((e) => ref.current(e)), [subscribe, ...deps]);
  return status;
}

export function useEventStatus(): StreamStatus {
  return useContext(Ctx).status;
}
