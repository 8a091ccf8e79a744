import { useCallback, useEffect, useState } from 'react';
import { api, type Room, unwrap } from '../api/api.ts';
import { useClientConfig } from '../app/config.tsx';
import { Link } from '../app/router.tsx';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { CreateRoomForm } from './CreateRoomForm.tsx';

type StatusFilter = 'all' | 'waiting' | 'active' | 'ended';

export function RoomsPage() {
  const config = useClientConfig();
  const [rooms, setRooms] = useState<Room[] | null>(null);
  const [status, setStatus] = useState<StatusFilter>('all');
  const [error, setError] = useState<unknown>(null);

  const load = useCallback(() => {
    setError(null);
    api
      .GET('/api/v1/rooms', { params: { query: { status, limit: 50 } } })
      .then((r) => setRooms(unwrap(r).rooms))
      .catch(setError);
  }, [status]);
  useEffect(load, [load]);
  useLiveEvents((e) => {
    if (e.type.startsWith('call.') || e.type.startsWith('participant.')) load();
  }, [load]);

  return (
    <main className="page" data-testid="rooms-page">
      {!config.livekit.configured && (
        <p className="notice" role="note" data-testid="livekit-missing">
          Calls need LiveKit: set <code>LIVEKIT_URL</code> (and its key pair) on the service. Rooms, history and files work
          without it.
        </p>
      )}
      <div className="columns">
        <section className="card" aria-labelledby="create-heading">
          <h2 id="create-heading">New room</h2>
          <CreateRoomForm onCreated={load} />
        </section>
        <section className="card grow" aria-labelledby="rooms-heading">
          <div className="row spread">
            <h2 id="rooms-heading">Your rooms</h2>
            <label className="inline-field">
              <span>Show</span>
              <select value={status} onChange={(e) => setStatus(e.target.value as StatusFilter)} data-testid="rooms-status-filter">
                <option value="all">All</option>
                <option value="waiting">Waiting</option>
                <option value="active">Active</option>
                <option value="ended">Ended (history)</option>
              </select>
            </label>
          </div>
          <ErrorMessage error={error} onRetry={load} />
          {rooms === null && !error && <p className="muted">Loading…</p>}
          {rooms?.length === 0 && <p className="muted">No rooms yet. Create one, or ask to be invited.</p>}
          <ul className="list" data-testid="room-list">
            {rooms?.map((r) => (
              <li key={r.call_id} className="list-item" data-testid="room-item" data-call-id={r.call_id}>
                <Link href={`/rooms/${r.call_id}`} className="list-link" data-testid="room-link">
                  <span className="title">{r.name}</span>
                  <span className="meta">
                    <span className={`badge status-${r.status}`}>{r.status}</span>
                    <span>{r.call_type.replace(/_/g, ' ')}</span>
                    <span>{r.privacy}</span>
                    <span>
                      {r.participant_count}/{r.max_participants} in call
                    </span>
                    <time dateTime={r.created_at}>{new Date(r.created_at).toLocaleString()}</time>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </main>
  );
}
