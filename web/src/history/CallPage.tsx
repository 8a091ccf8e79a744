// One call's page: what happened (timeline per person), how good it was (quality plots),
// its files and its invite links. The same page serves the people of the call (user
// API, RLS-scoped) and operators (GET /admin/calls/{id}, any call).
import { useCallback, useEffect, useState } from 'react';
import { type AdminCallDetail, api, type CallSummary, type Link as InviteLink, type ParticipantQuality, type SessionTimeline, unwrap } from '../api/api.ts';
import { Link } from '../app/router.tsx';
import { formatBytes, FilesPanel } from '../panels/FilesPanel.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';
import { callSeconds, duration, mos, mosClass, when } from './format.ts';
import { LinkVisitsChart, type VisitDay } from './LinkVisitsChart.tsx';
import { QualityCharts } from './QualityCharts.tsx';
import { Timeline } from './Timeline.tsx';

type LinkStats = { access_type: string; days: VisitDay[] } & Pick<InviteLink, 'link_id' | 'short_code' | 'title' | 'is_active' | 'total_clicks' | 'unique_visitors' | 'current_uses' | 'max_uses' | 'last_used_at' | 'created_at'>;

interface Loaded {
  call: CallSummary | AdminCallDetail['call'];
  timeline: SessionTimeline[];
  series: ParticipantQuality[];
  files: AdminCallDetail['files'] | null;
  links: LinkStats[];
}

async function loadForUser(callId: string): Promise<Loaded> {
  const path = { call_id: callId };
  const [call, timeline, quality, links] = await Promise.all([
    api.GET('/api/v1/calls/{call_id}', { params: { path } }).then(unwrap),
    api.GET('/api/v1/calls/{call_id}/timeline', { params: { path } }).then(unwrap),
    api.GET('/api/v1/calls/{call_id}/quality/participants', { params: { path } }).then(unwrap),
    api.GET('/api/v1/links', { params: { query: { call_id: callId, limit: 100 } } }).then(unwrap),
  ]);
  const withDays = await Promise.all(links.links.map(async (l) => ({ ...l, days: await visitDays(l.link_id, l.created_at) })));
  return { call, timeline: timeline.participants, series: quality.participants, files: null, links: withDays };
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** A link's visits from the day it was made (the API answers at most 1096 days). */
async function visitDays(linkId: string, createdAt: string): Promise<VisitDay[]> {
  const to = Date.now();
  const from = Math.max(Date.parse(createdAt), to - 1095 * 86_400_000);
  const query = { from: utcDay(from), to: utcDay(to) };
  return unwrap(await api.GET('/api/v1/links/{link_id}/stats', { params: { path: { link_id: linkId }, query } })).days;
}

async function loadForOperator(callId: string): Promise<Loaded> {
  const path = { call_id: callId };
  const [d, quality] = await Promise.all([
    api.GET('/api/v1/admin/calls/{call_id}', { params: { path } }).then(unwrap),
    api.GET('/api/v1/admin/calls/{call_id}/quality/participants', { params: { path } }).then(unwrap),
  ]);
  const byId = new Map(d.participants.map((p) => [p.participant_id, p]));
  return {
    call: d.call,
    timeline: d.timeline.map((t) => ({
      ...t,
      user_id: byId.get(t.participant_id)?.user_id ?? null,
      status: byId.get(t.participant_id)?.status ?? 'left',
    })),
    series: quality.participants,
    files: d.files,
    links: d.links,
  };
}

export function CallPage({ callId, operator = false }: { callId: string; operator?: boolean }) {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setError(null);
    (operator ? loadForOperator(callId) : loadForUser(callId)).then(setData).catch(setError);
  }, [callId, operator]);
  useEffect(load, [load]);

  const back = operator ? <Link href="/admin/calls">← All calls</Link> : <Link href="/calls">← Call history</Link>;
  if (error) {
    return (
      <main className="page">
        <p className="crumbs">{back}</p>
        <ErrorMessage error={error} onRetry={load} />
      </main>
    );
  }
  if (!data) return <p className="loading">Loading…</p>;
  const { call } = data;

  return (
    <main className="page" data-testid="call-page" data-call-id={call.call_id} data-view={operator ? 'operator' : 'user'}>
      <p className="crumbs">
        {back}
        {!operator && call.status !== 'ended' && (
          <>
            {' · '}
            <Link href={`/rooms/${call.call_id}`}>Open the room</Link>
          </>
        )}
      </p>
      <h1 data-testid="call-page-title">{call.name}</h1>
      <p className="meta">
        <span className={`badge status-${call.status === 'active' && call.participant_count === 0 ? 'idle' : call.status}`} data-testid="call-page-status">
          {/* LiveKit closes an empty room only after its timeout: say what is true now */}
          {call.status === 'active' && call.participant_count === 0 ? 'No one connected' : call.status}
        </span>
        <span>{call.call_type.replace(/_/g, ' ')}</span>
        <span>{when(call.started_at ?? call.created_at)}</span>
        <span>{duration(callSeconds(call))}</span>
        <span>by {call.creator.display_name ?? call.creator.aura_id ?? call.creator.user_id}</span>
        <span className={`badge ${mosClass(call.avg_quality_score)}`}>MOS {mos(call.avg_quality_score)}</span>
      </p>

      <section className="card section" aria-labelledby="timeline-heading">
        <h2 id="timeline-heading">Timeline</h2>
        <Timeline sessions={data.timeline} endedAt={call.ended_at} />
      </section>

      <section className="card section" aria-labelledby="quality-heading">
        <h2 id="quality-heading">Quality</h2>
        <QualityCharts participants={data.series} />
      </section>

      <div className="columns even">
        {data.files ? (
          <section className="panel" aria-labelledby="files-heading" data-testid="files-panel">
            <h2 id="files-heading">Files</h2>
            {data.files.length === 0 && <p className="muted">No files shared.</p>}
            <ul className="list compact">
              {data.files.map((f) => (
                <li key={f.file_id} className="file-row" data-testid="file-row" data-file-name={f.file_name} data-scan-status={f.scan_status}>
                  <span className="grow title">{f.file_name}</span>
                  <span className="muted">{formatBytes(f.file_size)}</span>
                  <span className={`badge scan-${f.scan_status}`}>{f.scan_status}</span>
                </li>
              ))}
            </ul>
          </section>
        ) : (
          <FilesPanel callId={call.call_id} canUpload={false} />
        )}
        <LinksSection links={data.links} />
      </div>
    </main>
  );
}

function LinksSection({ links }: { links: LinkStats[] }) {
  return (
    <section className="panel" aria-labelledby="links-heading" data-testid="call-links">
      <h2 id="links-heading">Invite links</h2>
      {links.length === 0 ? (
        <p className="muted">No invite links (only their creator sees a call's links).</p>
      ) : (
        <>
        <LinkVisitsChart days={links.flatMap((l) => l.days)} />
        <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Link</th>
              <th scope="col">Clicks</th>
              <th scope="col">Visitors</th>
              <th scope="col">Uses</th>
              <th scope="col">Last used</th>
            </tr>
          </thead>
          <tbody>
            {links.map((l) => (
              <tr key={l.link_id} data-testid="call-link-row">
                <td>
                  {l.title ?? l.short_code} <span className="muted">{l.is_active ? l.access_type : 'inactive'}</span>
                </td>
                <td>{l.total_clicks}</td>
                <td>{l.unique_visitors}</td>
                <td>
                  {l.current_uses}
                  {l.max_uses ? `/${l.max_uses}` : ''}
                </td>
                <td>{when(l.last_used_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
        </>
      )}
    </section>
  );
}
