// Quality over time per person: one uPlot chart per metric, one line per person
// (the sessions of a person who reconnected make one line with a gap).
import { useMemo } from 'react';
import type { ParticipantQuality } from '../api/api.ts';
import { Chart, type ChartSeries } from '../ui/Chart.tsx';

type Point = ParticipantQuality['points'][number];
const METRICS: Array<{ key: keyof Point; title: string; unit: string }> = [
  { key: 'rtt_ms', title: 'Round-trip time', unit: ' ms' },
  { key: 'jitter_ms', title: 'Jitter', unit: ' ms' },
  { key: 'packet_loss_percent', title: 'Packet loss', unit: '%' },
  { key: 'bitrate_kbps', title: 'Bitrate (audio + video)', unit: ' kbps' },
  { key: 'mos', title: 'MOS (1–5)', unit: '' },
];

export function QualityCharts({ participants }: { participants: ParticipantQuality[] }) {
  const charts = useMemo(() => {
    const people = new Map<string, { label: string; points: Point[] }>();
    for (const p of participants) {
      const e = people.get(p.identity) ?? { label: p.display_name ?? p.identity, points: [] };
      e.points.push(...p.points);
      people.set(p.identity, e);
    }
    const xs = [...new Set(participants.flatMap((p) => p.points.map((x) => Date.parse(x.at) / 1000)))].sort((a, b) => a - b);
    const index = new Map(xs.map((x, i) => [x, i]));
    return METRICS.map((m) => {
      const series: ChartSeries[] = [...people.values()].map((person) => {
        const values: Array<number | null> = xs.map(() => null);
        for (const pt of person.points) {
          const v = pt[m.key];
          if (typeof v === 'number') values[index.get(Date.parse(pt.at) / 1000)!] = v;
        }
        return { label: person.label, values };
      });
      return { ...m, xs, series };
    });
  }, [participants]);

  if (participants.length === 0) return <p className="muted">No quality samples were reported in this call.</p>;
  return (
    <div className="charts" data-testid="quality-charts">
      {charts.map((c) => (
        <Chart key={c.key} title={c.title} unit={c.unit} xs={c.xs} series={c.series} testId="quality-chart" metric={c.key} />
      ))}
    </div>
  );
}
