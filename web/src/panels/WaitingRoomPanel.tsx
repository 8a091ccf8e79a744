import { useCallback, useEffect, useState } from 'react';
import { api, type JoinRequest, unwrap } from '../api/api.ts';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

/** The host's waiting room: requests arrive on the event stream and are decided in one click. */
export function WaitingRoomPanel({ callId }: { callId: string }) {
  const [requests, setRequests] = useState<JoinRequest[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(() => {
    api
      .GET('/api/v1/rooms/{room_id}/join-requests', { params: { path: { room_id: callId }, query: { status: 'pending', limit: 100 } } })
      .then((r) => {
        setRequests(unwrap(r).join_requests);
        setError(null);
      })
      .catch(setError);
  }, [callId]);
  useEffect(load, [load]);
  const status = useLiveEvents((e) => {
    if (e.call_id === callId && e.type.startsWith('join_request.')) load();
  }, [callId, load]);
  // Requests expire on their own; a slow look now and then also covers a stream outage.
  useEffect(() => {
    const t = setInterval(load, status === 'open' ? 30_000 : 5000);
    return () => clearInterval(t);
  }, [load, status]);

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

  return (
    <section className="panel" aria-labelledby="waiting-heading" data-testid="waiting-room-panel">
      <h2 id="waiting-heading">
        Waiting room {requests.length > 0 && <span className="count">{requests.length}</span>}
      </h2>
      <ErrorMessage error={error} onRetry={load} />
      {requests.length === 0 ? (
        <p className="muted">Nobody is waiting.</p>
      ) : (
        <ul className="list compact" data-testid="join-request-list" aria-live="polite">
          {requests.map((r) => (
            <li key={r.request_id} className="request-row" data-testid="join-request" data-display-name={r.display_name}>
              <span className="grow title">{r.display_name}</span>
              <button
                type="button"
                className="button small primary"
                data-testid="join-request-approve"
                aria-label={`Let ${r.display_name} in`}
                disabled={busy === r.request_id}
                onClick={() => void decide(r, 'approve')}
              >
                Admit
              </button>
              <button
                type="button"
                className="button small danger"
                data-testid="join-request-deny"
                aria-label={`Deny ${r.display_name}`}
                disabled={busy === r.request_id}
                onClick={() => void decide(r, 'deny')}
              >
                Deny
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
