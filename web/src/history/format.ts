// Small formatting helpers shared by the history and operator views.

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  if (m > 0) return `${m} min ${String(r).padStart(2, '0')} s`;
  return `${r} s`;
}

/** The call's length: its own duration once ended, else from its start until now. */
export function callSeconds(c: { duration_seconds: number | null; started_at: string | null; ended_at: string | null }): number | null {
  if (c.duration_seconds !== null) return c.duration_seconds;
  if (!c.started_at) return null;
  return (Date.parse(c.ended_at ?? new Date().toISOString()) - Date.parse(c.started_at)) / 1000;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '–');
export const clock = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleTimeString() : '–');
export const mos = (v: number | null | undefined) => (v === null || v === undefined ? '–' : v.toFixed(2));

/** A MOS in words: what people would call it. */
export function mosClass(v: number | null | undefined): string {
  if (v === null || v === undefined) return 'q-none';
  if (v >= 4) return 'q-good';
  if (v >= 3.5) return 'q-fair';
  return 'q-poor';
}
