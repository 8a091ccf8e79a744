// Invite links' clicks and unique visitors per UTC day, all of a call's links summed:
// a point per day from the first day with a visit to the last, at least a week (days
// without a visit are zeros, so the lines keep their calendar spacing; a lone day would
// otherwise leave uPlot nothing to scale the axis by).
import { useMemo } from 'react';
import { Chart, type ChartSeries } from '../ui/Chart.tsx';

export interface VisitDay {
  day: string;
  clicks: number;
  unique_visitors: number;
}

const DAY_S = 86_400;
const MAX_DAYS = 1096;
const MIN_DAYS = 7;

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
      const last = known[known.length - 1]!;
      const first = Math.max(Math.min(known[0]!, last - (MIN_DAYS - 1) * DAY_S), last - (MAX_DAYS - 1) * DAY_S);
      for (let x = first; x <= last; x += DAY_S) xs.push(x);
    }
    const series: ChartSeries[] = [
      { label: 'Clicks', values: xs.map((x) => byDay.get(x)?.clicks ?? 0) },
      { label: 'Unique visitors', values: xs.map((x) => byDay.get(x)?.unique ?? 0) },
    ];
    return { xs, series };
  }, [days]);

  const total = (i: number) => series[i]!.values.reduce<number>((a, v) => a + (v ?? 0), 0);
  return (
    <div data-testid="link-visits" data-days={xs.length} data-clicks={total(0)} data-unique-visitors={total(1)}>
      <Chart title="Link visits per day (UTC)" xs={xs} series={series} days testId="link-visits-chart" metric="link_visits" />
    </div>
  );
}
