// A small time chart drawn by uPlot, sized to its container. The container carries the
// number of series and of data points as attributes, for people with screen readers
// (with the summary text) and for the browser tests alike.
import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export const PALETTE = ['#8b89ff', '#3ecf8e', '#f5b84a', '#ef5b5b', '#4cc9f0', '#f07cc9', '#b5e853', '#c7a0ff'];

export interface ChartSeries {
  label: string;
  /** one value per x, null where this series has no point */
  values: Array<number | null>;
}

export interface ChartProps {
  title: string;
  /** unix seconds */
  xs: number[];
  series: ChartSeries[];
  unit?: string;
  testId?: string;
  metric?: string;
  bars?: boolean;
  height?: number;
  /** x axis as days (usage) rather than times of day */
  days?: boolean;
}

export function Chart({ title, xs, series, unit = '', testId = 'chart', metric, bars, height = 170, days }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const points = series.reduce((n, s) => n + s.values.filter((v) => v !== null && v !== undefined).length, 0);

  useEffect(() => {
    const el = box.current;
    if (!el || xs.length === 0) return;
    const width = () => Math.max(240, Math.floor(el.clientWidth));
    const axis = { stroke: '#9aa3b2', grid: { stroke: '#2b303b', width: 1 }, ticks: { stroke: '#2b303b', width: 1 } };
    const opts: uPlot.Options = {
      width: width(),
      height,
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      // bars need half a slot of room at both ends, or the first and last are cut in half
      scales: { x: bars && xs.length > 1 ? { time: true, range: (_u, min, max) => [min - (xs[1]! - xs[0]!) / 2, max + (xs[1]! - xs[0]!) / 2] } : { time: true } },
      axes: [
        days ? { ...axis, values: (_u, vals) => vals.map((v) => new Date(v * 1000).toISOString().slice(5, 10)) } : axis,
        // wide enough for "1500 kbps"; uPlot's ticks are already round numbers
        { ...axis, size: 76, values: (_u, vals) => vals.map((v) => (v === null || v === undefined ? '' : `${+v.toPrecision(6)}${unit}`)) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          fill: bars ? `${PALETTE[i % PALETTE.length]}55` : undefined,
          paths: bars ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined,
          points: { show: !bars, size: 5 },
          spanGaps: false,
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: width(), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [xs, series, unit, height, bars, days]);

  return (
    <figure className="chart" data-testid={testId} data-metric={metric} data-series={series.length} data-points={points}>
      <figcaption>{title}</figcaption>
      {xs.length === 0 ? <p className="muted">No data yet.</p> : <div ref={box} className="chart-plot" role="img" aria-label={`${title}: ${points} points`} />}
    </figure>
  );
}
