// The operator's overview: rooms live now, people connected now, today's minutes, the
// last 30 days of usage and the calls with the worst quality. Days are UTC days, as the
// operator API counts them.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { type AdminLiveRoom, type AdminUsage, type AdminWorst, api, unwrap } from '../api/api.ts';
import { Link } from '../app/router.tsx';
import { mos, mosClass, when } from '../history/format.ts';
import { Chart } from '../ui/Chart.tsx';
import { ErrorMessage } from '../ui/ErrorMessage.tsx';

const utcDay = (d: Date) => d.toISOString().slice(0, 10);

interface Overview {
  live: AdminLiveRoom[];
  usage: AdminUsage;
  worst: AdminWorst;
  today: string;
}

export function OverviewPage() {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    setError(null);
    const now = new Date();
    const today = utcDay(now);
    const from = utcDay(new Date(now.getTime() - 29 * 86_400_000));
    Promise.all([
      api.GET('/api/v1/admin/rooms/live', { params: { query: { limit: 50 } } }).then(unwrap),
      api.GET('/api/v1/admin/usage', { params: { query: { from, to: today } } }).then(unwrap),
      api.GET('/api/v1/admin/quality/worst', { params: { query: { from, to: today, metric: 'mos', subject: 'calls', limit: 10 } } }).then(unwrap),
    ])
      .then(([live, usage, worst]) => setData({ live: live.rooms, usage, worst, today }))
      .catch(setError);
  }, []);
  useEffect(load, [load]);
  // live numbers drift: look again now and then while the page is open
  useEffect(() => {
    const t = setInterval(load, 30_000);
    return () => clearInterval(t);
  }, [load]);

  const chart = useMemo(() => {
    if (!data) return null;
    const byDay = new Map(data.usage.days.map((d) => [d.day, d]));
    const start = Date.parse(`${data.usage.from}T00:00:00Z`);
    const days: string[] = [];
    for (let t = start; utcDay(new Date(t)) <= data.today; t += 86_400_000) days.push(utcDay(new Date(t)));
    return {
      xs: days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000),
      series: [{ label: 'Participant-minutes', values: days.map((d) => byDay.get(d)?.participant_minutes ?? 0) }],
    };
  }, [data]);

  if (error) {
    return (
      <main className="page">
        <ErrorMessage error={error} onRetry={load} />
      </main>
    );
  }
  if (!data || !chart) return <p className="loading">Loading…</p>;
  const today = data.usage.days.find((d) => d.day === data.today);
  const raw = today?.participant_minutes ?? 0;
  // a short test call is a fraction of a minute: do not show it as 0
  const minutesToday = raw > 0 && raw < 10 ? raw.toFixed(1) : String(Math.round(raw));

  return (
    <main className="page" data-testid="operator-overview">
      <OperatorNav current="overview" />
      <h1>Deployment overview</h1>
      <div className="stats">
        <Stat label="Rooms live" value={data.live.length} testId="operator-live-count" />
        <Stat label="People connected now" value={data.usage.now?.participants ?? data.live.reduce((n, r) => n + r.participant_count, 0)} testId="operator-participants-now" />
        <Stat label="Participant-minutes today (UTC)" value={minutesToday} raw={today?.participant_minutes ?? 0} testId="operator-today-minutes" />
        <Stat label="Calls today (UTC)" value={today?.calls ?? 0} testId="operator-today-calls" />
      </div>

      <section className="card section" aria-labelledby="usage-heading">
        <h2 id="usage-heading">Usage, last 30 days</h2>
        <Chart title="Participant-minutes per UTC day" xs={chart.xs} series={chart.series} unit="" testId="usage-chart" metric="participant_minutes" bars days />
        <p className="muted">
          {+data.usage.totals.participant_minutes.toFixed(1)} participant-minutes over {data.usage.totals.call_days}{' '}
          {data.usage.totals.call_days === 1 ? 'call-day' : 'call-days'}
          {/* Peak concurrency is sampled at whole minutes: a call shorter than a minute can show 0. */}
          {!!data.usage.totals.peak_concurrent && <>; at most {data.usage.totals.peak_concurrent} people at once</>}.
        </p>
      </section>

      <div className="columns even">
        <section className="panel" aria-labelledby="live-heading" data-testid="operator-live-rooms">
          <h2 id="live-heading">Live rooms</h2>
          {data.live.length === 0 && <p className="muted">No room is live.</p>}
          <ul className="list compact">
            {data.live.map((r) => (
              <li key={r.call_id}>
                <Link href={`/admin/calls/${r.call_id}`} className="list-link">
                  <span className="title">{r.name}</span>
                  <span className="meta">
                    <span>
                      {r.participant_count}/{r.max_participants} connected
                    </span>
                    <span>
                      {r.participants.map((p) => p.display_name ?? p.identity).join(', ')}
                      {r.participants_total > r.participants.length && ` and ${r.participants_total - r.participants.length} more`}
                    </span>
                    <span>since {when(r.started_at ?? r.created_at)}</span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
        <section className="panel" aria-labelledby="worst-heading" data-testid="worst-calls">
          <h2 id="worst-heading">Worst quality, last 30 days</h2>
          {(data.worst.calls ?? []).length === 0 && <p className="muted">No quality samples in this range.</p>}
          <ul className="list compact">
            {(data.worst.calls ?? []).map((c) => (
              <li key={c.call_id} data-testid="worst-call-row" data-call-id={c.call_id}>
                <Link href={`/admin/calls/${c.call_id}`} className="list-link">
                  <span className="row spread">
                    <span className="title">{c.name}</span>
                    <span className={`badge ${mosClass(c.avg_quality_score)}`}>MOS {mos(c.avg_quality_score)}</span>
                  </span>
                  <span className="meta">
                    <span>{when(c.started_at)}</span>
                    <span>loss {c.avg_packet_loss_percent ?? '–'}%</span>
                    <span>RTT {c.avg_latency_ms ?? '–'} ms</span>
                    <span>{c.samples} samples</span>
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

function Stat({ label, value, raw, testId }: { label: string; value: number | string; raw?: number; testId: string }) {
  return (
    <div className="stat" data-testid={testId} data-value={raw ?? value}>
      <span className="stat-value">{value}</span>
      <span className="muted">{label}</span>
    </div>
  );
}

export function OperatorNav({ current }: { current: 'overview' | 'calls' }) {
  return (
    <nav className="subnav" aria-label="Operator">
      <span className="badge">Operator</span>
      <Link href="/admin" aria-current={current === 'overview' ? 'page' : undefined}>
        Overview
      </Link>
      <Link href="/admin/calls" aria-current={current === 'calls' ? 'page' : undefined}>
        All calls
      </Link>
    </nav>
  );
}
