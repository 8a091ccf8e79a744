import type { JoinRequest } from '../api/api.ts';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import type { JoinRequests } from './useJoinRequests.ts';

export const WAITING_PANEL_ID = 'waiting-room';

/** The host's waiting room: requests arrive on the event stream and are decided in one click. */
export function WaitingRoomPanel({ state }: { state: JoinRequests }) {
  const { requests, error, load } = state;
  return (
    <section className="panel" id={WAITING_PANEL_ID} tabIndex={-1} aria-labelledby="waiting-heading" data-testid="waiting-room-panel">
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
              <Decide r={r} state={state} prefix="join-request" />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Decide({ r, state, prefix }: { r: JoinRequest; state: JoinRequests; prefix: string }) {
  return (
    <>
      <button
        type="button"
        className="button small primary"
        data-testid={`${prefix}-approve`}
        aria-label={`Let ${r.display_name} in`}
        disabled={state.busy === r.request_id}
        onClick={() => void state.decide(r, 'approve')}
      >
        Admit
      </button>
      <button
        type="button"
        className="button small danger"
        data-testid={`${prefix}-deny`}
        aria-label={`Deny ${r.display_name}`}
        disabled={state.busy === r.request_id}
        onClick={() => void state.decide(r, 'deny')}
      >
        Deny
      </button>
    </>
  );
}

/**
 * Beside the call title, sticky: "Gwen is waiting  Admit  Deny". The side column scrolls
 * on its own, so a request arriving while it shows the invite form would go unseen.
 */
export function JoinRequestNotice({ state }: { state: JoinRequests }) {
  const { requests } = state;
  if (requests.length === 0) return null;
  const first = requests[0]!;
  const more = requests.length - 1;
  const jump = () => {
    const el = document.getElementById(WAITING_PANEL_ID);
    el?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    el?.focus({ preventScroll: true });
  };
  return (
    <div className="request-notice" role="status" aria-live="polite" data-testid="join-request-notice" data-count={requests.length}>
      <span className="grow">
        <strong>{first.display_name}</strong> is waiting to join{more > 0 && <> (and {more} more)</>}
      </span>
      <Decide r={first} state={state} prefix="join-request-notice" />
      {more > 0 && (
        <button type="button" className="button small ghost" onClick={jump} data-testid="join-request-notice-show">
          Show all
        </button>
      )}
    </div>
  );
}
