import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Participant, unwrap } from '../api/api.ts';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : '–');

/** Who joined the call and when, live while it runs, the history once it ended. */
export function ParticipantsPanel({ callId }: { callId: string }) {
  const [people, setPeople] = useState<Participant[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    api
      .GET('/api/v1/calls/{call_id}/participants', { params: { path: { call_id: callId } } })
      .then((r) => {
        setPeople(unwrap(r).participants);
        setError(null);
      })
      .catch((err) => {
        // Invitees see the list once they have joined; until then it is not theirs to see.
        if (err instanceof ApiError && err.status === 404) {
          setPeople([]);
          setError(null);
        } else setError(err);
      });
  }, [callId]);
  useEffect(load, [load]);
  useLiveEvents((e) => {
    if (e.call_id === callId && (e.type.startsWith('participant.') || e.type.startsWith('call.'))) load();
  }, [callId, load]);

  return (
    <section className="panel" aria-labelledby="people-heading" data-testid="participants-panel">
      <h2 id="people-heading">People</h2>
      <ErrorMessage error={error} onRetry={load} />
      {people?.length === 0 && <p className="muted">Nobody has joined yet.</p>}
      <ul className="list compact">
        {people?.map((p) => (
          <li key={p.participant_id} className="person-row" data-testid="participant-row" data-status={p.status}>
            <span className="grow title">{p.display_name ?? p.identity}</span>
            <span className="meta">
              <span className={`badge status-${p.status}`}>{p.status}</span>
              <span>
                {time(p.joined_at)} → {time(p.left_at)}
              </span>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
