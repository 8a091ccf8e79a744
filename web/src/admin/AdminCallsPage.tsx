// Every call of the deployment, searchable (name or room), newest first, paged by the
// keyset cursor.
import { useCallback, useEffect, useState } from 'react';
import { type AdminCallItem, api, unwrap } from '../api/api.ts';
import { Link } from '../app/router.tsx';
import { callSeconds, duration, mos, mosClass, when } from '../history/format.ts';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { useCursorPages } from '../ui/useCursorPages.ts';
import { OperatorNav } from './OverviewPage.tsx';

type Status = '' | 'waiting' | 'active' | 'ended' | 'failed';

export function AdminCallsPage() {
  const [q, setQ] = useState('');
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState<Status>('');

  // search as you type, once typing pauses
  useEffect(() => {
    const t = setTimeout(() => setSearch(q.trim()), 300);
    return () => clearTimeout(t);
  }, [q]);

  const load = useCallback(
    async (after: string | null) => {
      const r = unwrap(
        await api.GET('/api/v1/admin/calls', {
          params: { query: { ...(search ? { q: search } : {}), ...(status ? { status } : {}), limit: 25, ...(after ? { cursor: after } : {}) } },
        }),
      );
      return { items: r.calls, next_cursor: r.next_cursor };
    },
    [search, status],
  );
  const { items: calls, cursor, loading, error, fetchPage } = useCursorPages<AdminCallItem>(load);

  return (
    <main className="page" data-testid="operator-calls">
      <OperatorNav current="calls" />
      <h1>All calls</h1>
      <form className="filters row wrap" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span>Search by name or room</span>
          <input type="search" value={q} onChange={(e) => setQ(e.target.value)} maxLength={100} data-testid="operator-calls-search" />
        </label>
        <label className="field small">
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)} data-testid="operator-calls-status">
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="waiting">Waiting</option>
            <option value="ended">Ended</option>
            <option value="failed">Failed</option>
          </select>
        </label>
      </form>
      <ErrorMessage error={error} onRetry={() => void fetchPage(null)} />
      {calls?.length === 0 && <p className="muted">No calls match.</p>}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Call</th>
              <th scope="col">Status</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Sessions</th>
              <th scope="col">Files</th>
              <th scope="col">MOS</th>
              <th scope="col">Creator</th>
            </tr>
          </thead>
          <tbody>
            {calls?.map((c) => (
              <tr key={c.call_id} data-testid="operator-call-row" data-call-id={c.call_id}>
                <td>
                  <Link href={`/admin/calls/${c.call_id}`}>{c.name}</Link>
                  <div className="muted small">{c.room_name}</div>
                </td>
                <td>
                  <span className={`badge status-${c.status}`}>{c.status}</span>
                </td>
                <td>{when(c.started_at ?? c.created_at)}</td>
                <td>{duration(callSeconds(c))}</td>
                <td>{c.sessions}</td>
                <td>{c.files_shared}</td>
                <td className={mosClass(c.avg_quality_score)}>{mos(c.avg_quality_score)}</td>
                <td>{c.creator.display_name ?? c.creator.aura_id ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {cursor && (
        <button type="button" className="button" disabled={loading} onClick={() => void fetchPage(cursor)} data-testid="operator-calls-more">
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </main>
  );
}
