// The host's pending join requests, shared by the waiting-room panel and the notice
// beside the call title (the panel may be scrolled out of sight; the notice never is).
import { useCallback, useEffect, useState } from 'react';
import { api, type JoinRequest, unwrap } from '../api/api.ts';
import { useLiveEvents } from '../events/EventsProvider.tsx';

export interface JoinRequests {
  requests: JoinRequest[];
  error: unknown;
  busy: string | null;
  load(): void;
  decide(r: JoinRequest, action: 'approve' | 'deny'): Promise<void>;
}

export function useJoinRequests(callId: string, enabled: boolean): JoinRequests {
  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(() => {
    if (!enabled) return;
    api
      .GET('/api/v1/rooms/{room_id}/join-requests', { params: { path: { room_id: callId }, query: { status: 'pending', limit: 100 } } })
      .then((r) => {
        setRequests(unwrap(r).join_requests);
        setError(null);
      })
      .catch(setError);
  }, [callId, enabled]);
  useEffect(load, [load]);
  const status = useLiveEvents((e) => {
    if (e.call_id === callId && e.type.startsWith('join_request.')) load();
  }, [callId, load]);
  // Requests expire on their own; a slow look now and then also covers a stream outage.
  useEffect(() => {
    if (!enabled) return;
    const t = setInterval(load, status === 'open' ? 30_000 : 5000);
    return () => clearInterval(t);
  }, [load, status, enabled]);

  const decide = async (r: JoinRequest, action: 'approve' | 'deny') => {
    setBusy(r.request_id);
    setError(null);
    try {
      const path = action === 'approve' ? '/api/v1/rooms/{room_id}/join-requests/{request_id}/approve' : '/api/v1/rooms/{room_id}/join-requests/{request_id}/deny';
      unwrap(await api.POST(path, { params: { path: { room_id: callId, request_id: r.request_id } } }));
      setRequests((list) => list.filter((x) => x.request_id !== r.request_id));
    } catch (err) {
      setError(err);
      load();
    } finally {
      setBusy(null);
    }
  };
  return { requests, error, busy, load, decide };
}
