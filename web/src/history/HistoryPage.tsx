// My call history: filters, and the keyset cursor followed as the list scrolls (or
// with the button, for keyboards and when the sentinel never scrolls into view).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, type CallListItem, unwrap } from '../api/api.ts';
import { Link } from '../app/router.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { useCursorPages } from '../ui/useCursorPages.ts';
import { callSeconds, duration, mos, mosClass, when } from './format.ts';

type Status = 'all' | 'waiting' | 'active' | 'ended' | 'failed';
type CallType = '' | 'one_to_one' | 'group' | 'conference' | 'broadcast';
const PAGE = 20;

/** A local date input (YYYY-MM-DD) as the start of that day in the viewer's time zone. */
const dayStart = (d: string) => (d ? new Date(`${d}T00:00:00`).toISOString() : undefined);
const dayAfter = (d: string) => {
  if (!d) return undefined;
  const t = new Date(`${d}T00:00:00`);
  t.setDate(t.getDate() + 1);
  return t.toISOString();
};

export function HistoryPage() {
  const [status, setStatus] = useState<Status>('all');
  const [type, setType] = useState<CallType>('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const load = useCallback(
    async (after: string | null) => {
      const r = unwrap(
        await api.GET('/api/v1/calls', {
          params: {
            query: {
              status,
              ...(type ? { call_type: type } : {}),
              ...(from ? { from: dayStart(from) } : {}),
              ...(to ? { to: dayAfter(to) } : {}),
              limit: PAGE,
              ...(after ? { cursor: after } : {}),
            },
          },
        }),
      );
      return { items: r.calls, next_cursor: r.next_cursor };
    },
    [status, type, from, to],
  );
  const { items: calls, cursor, loading, error, fetchPage } = useCursorPages<CallListItem>(load);

  // infinite scroll: the sentinel below the list asks for the next page when it shows
  const sentinel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || !cursor || loading) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void fetchPage(cursor);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, loading, fetchPage]);

  return (
    <main className="page" data-testid="history-page">
      <h1>Call history</h1>
      <form className="filters row wrap" onSubmit={(e) => e.preventDefault()} aria-label="Filter calls">
        <label className="field small">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)} data-testid="history-status">
            <option value="all">All</option>
            <option value="active">Active</option>
            <option value="waiting">Waiting</option>
            <option value="ended">Ended</option>
            <option value="failed">Failed</option>
          </select>
        </label>
        <label className="field small">
          <span>Type</span>
          <select value={type} onChange={(e) => setType(e.target.value as CallType)} data-testid="history-type">
            <option value="">Any</option>
            <option value="one_to_one">One to one</option>
            <option value="group">Group</option>
            <option value="conference">Conference</option>
            <option value="broadcast">Broadcast</option>
          </select>
        </label>
        <label className="field small">
          <span>From</span>
          <input type="date" value={from} max={to || undefined} onChange={(e) => setFrom(e.target.value)} data-testid="history-from" />
        </label>
        <label className="field small">
          <span>To</span>
          <input type="date" value={to} min={from || undefined} onChange={(e) => setTo(e.target.value)} data-testid="history-to" />
        </label>
      </form>
      <ErrorMessage error={error} onRetry={() => void fetchPage(calls && calls.length > 0 ? cursor : null)} />
      {calls?.length === 0 && <p className="muted">No calls match.</p>}
      <ul className="list" data-testid="history-list">
        {calls?.map((c) => (
          <li key={c.call_id} data-testid="history-row" data-call-id={c.call_id}>
            <Link href={`/calls/${c.call_id}`} className="list-link history-row">
              <span className="row spread">
                <span className="title">{c.name}</span>
                <span className={`badge status-${c.status}`}>{c.status}</span>
              </span>
              <span className="meta">
                <time dateTime={c.started_at ?? c.created_at}>{when(c.started_at ?? c.created_at)}</time>
                <span title="duration">{duration(callSeconds(c))}</span>
                <span data-testid="history-people">
                  {c.people_joined} {c.people_joined === 1 ? 'person' : 'people'}
                </span>
                <span>
                  {c.files_shared} {c.files_shared === 1 ? 'file' : 'files'}
                </span>
                <span className={`badge ${mosClass(c.avg_quality_score)}`} title="average quality (MOS 1–5)">
                  MOS {mos(c.avg_quality_score)}
                </span>
                <span>{c.call_type.replace(/_/g, ' ')}</span>
              </span>
            </Link>
          </li>
        ))}
      </ul>
      <div ref={sentinel} aria-hidden="true" />
      {cursor && (
        <button type="button" className="button" disabled={loading} onClick={() => void fetchPage(cursor)} data-testid="history-more">
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
      {loading && !cursor && <p className="muted">Loading…</p>}
    </main>
  );
}
