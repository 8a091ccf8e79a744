// Invite links' clicks and unique visitors per UTC day, all of a call's links summed:
// one bar pair per day from the first day with a visit to the last (days between them
// with none are zeros, so the bars keep their calendar spacing).
import { useMemo } from 'react';
import { Chart, type ChartSeries } from '../ui/Chart.tsx';

export interface VisitDay {
  day: string;
  clicks: number;
  unique_visitors: number;
}

const DAY_S = 86_400;
const MAX_DAYS = 1096;

export function LinkVisitsChart({ days }: { days: VisitDay[] }) {
  const { xs, series } = useMemo(() => {
    const byDay = new Map<number, { clicks: number; unique: number }>();
    for (const d of days) {
      const x = Date.parse(`${d.day}T00:00:00Z`) / 1000;
      const e = byDay.get(x) ?? { clicks: 0, unique: 0 };
      e.clicks += d.clicks;
      e.unique += d.unique_visitors;
      byDay.set(x, e);
    }
    const known = [...byDay.keys()].sort((a, b) => a - b);
    const xs: number[] = [];
    if (known.length) {
      const first = Math.max(known[0]!, known[known.length - 1]! - (MAX_DAYS - 1) * DAY_S);
      for (let x = first; x <= known[known.length - 1]!; x += DAY_S) xs.push(x);
    }
    const series: ChartSeries[] = [
      { label: 'Clicks', values: xs.map((x) => byDay.get(x)?.clicks ?? 0) },
      { label: 'Unique visitors', values: xs.map((x) => byDay.get(x)?.unique ?? 0) },
    ];
    return { xs, series };
  }, [days]);

  return <Chart title="Link visits per day (UTC)" xs={xs} series={series} bars days testId="link-visits-chart" metric="link_visits" />;
}
