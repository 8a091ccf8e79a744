import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type Participant, unwrap } from '../api/api.ts';
import { Link } from '../app/router.tsx';
import { useLiveEvents } from '../events/EventsProvider.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

const time = (iso: string | null) => (iso ? new Date(iso).toLocaleTimeString() : '–');

/**
 * Who joined the call and when, live while it runs, the history once it ended.
 * `visible` is false for an invitee who has no seat yet: the list would be 404 to them
 * (the history is the creator's and the participants'), so it is not asked for.
 */
export function ParticipantsPanel({ callId, visible = true }: { callId: string; visible?: boolean }) {
  const [people, setPeople] = useState<Participant[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    if (!visible) return;
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
  }, [callId, visible]);
  useEffect(load, [load]);
  useLiveEvents((e) => {
    if (e.call_id === callId && (e.type.startsWith('participant.') || e.type.startsWith('call.'))) load();
  }, [callId, load]);

  return (
    <section className="panel" aria-labelledby="people-heading" data-testid="participants-panel">
      <h2 id="people-heading">People</h2>
      <ErrorMessage error={error} onRetry={load} />
      {!visible && <p className="muted">The people of this call show here once you join.</p>}
      {people?.length === 0 && <p className="muted">Nobody has joined yet.</p>}
      <ul className="list compact">
        {people?.map((p) => (
          <li key={p.participant_id} className="person-row" data-testid="participant-row" data-status={p.status}>
            {/* two lines: a narrow panel would otherwise cut the name to make room for the times */}
            <span className="person-line">
              <span className="grow title">{p.display_name ?? p.identity}</span>
              <span className={`badge status-${p.status}`}>{p.status}</span>
            </span>
            <span className="person-times muted">
              {time(p.joined_at)} → {time(p.left_at)}
            </span>
          </li>
        ))}
      </ul>
      {visible && people && people.length > 0 && (
        <p className="panel-foot">
          <Link href={`/calls/${callId}`} data-testid="call-history-link">
            Timeline and quality of this call
          </Link>
        </p>
      )}
    </section>
  );
}
