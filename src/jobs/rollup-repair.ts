// Recomputes the usage and quality rollups (migrations 008, 009) of the last few UTC
// days from the raw sessions and samples, and writes only what differs. The triggers
// keep the rollups in the writing transaction, so this finds nothing to do unless
// rows were written with triggers off (a bulk load, a restore, a manual fix); it is
// the repair path for those. Each rebuild takes its exclusive advisory lock (727006 /
// 727007), so N instances repair one after the other, idempotently. Quality days stay
// inside the sample retention window: older days have no samples to rebuild from.
// Also prunes the link-health records (reconcile runs, webhook failures) after 30 days.
import type { Database } from '../db/database.ts';
import type { Job } from './index.ts';
import { periodic } from './periodic.ts';

const DAY_MS = 86_400_000;
export const HEALTH_RETENTION_DAYS = 30;

export interface RepairResult {
  from: string;
  to: string;
  usageRows: number;
  qualityRows: number;
  pruned: number;
}

const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * Rebuilds UTC days [from, to) (`to` exclusive); by default the last `days` days up to
 * today. Usage and quality each run in a transaction of their own.
 */
export async function repairRollups(
  db: Database,
  opts: { days?: number; from?: string; to?: string; retentionDays: number; now?: Date },
): Promise<RepairResult> {
  const now = opts.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const to = opts.to ?? utcDay(today + DAY_MS);
  const from = opts.from ?? utcDay(today - ((opts.days ?? 2) - 1) * DAY_MS);
  // The first whole day with all its samples still kept.
  const qualityFrom = [from, utcDay(today - (opts.retentionDays - 1) * DAY_MS)].sort()[1]!;
  const usageRows = await db.privileged(async (sql) => {
    // The days' rollups and peaks (migration 018), then the people connected now (017).
    const { rows } = await sql.query<{ n: number }>(
      'SELECT app.usage_rebuild_with_peaks($1::date, $2::date) + app.usage_open_rebuild() AS n',
      [from, to],
    );
    return rows[0]!.n;
  });
  const qualityRows = await db.privileged(async (sql) => {
    const { rows } = await sql.query<{ n: number }>('SELECT app.quality_days_rebuild($1::date, $2::date) AS n', [qualityFrom, to]);
    return rows[0]!.n;
  });
  const pruned = await db.privileged(async (sql) => {
    const cutoff = new Date(now.getTime() - HEALTH_RETENTION_DAYS * DAY_MS);
    const a = await sql.query('DELETE FROM reconcile_runs WHERE finished_at < $1', [cutoff]);
    const b = await sql.query('DELETE FROM webhook_failures WHERE occurred_at < $1', [cutoff]);
    return (a.rowCount ?? 0) + (b.rowCount ?? 0);
  });
  return { from, to, usageRows, qualityRows, pruned };
}

export function startRollupRepair(
  db: Database,
  opts: { days: number; intervalSeconds: number; retentionDays: number; onRepaired(r: RepairResult): void; onError(err: unknown): void },
): Job {
  return periodic(
    'rollup-repair',
    opts.intervalSeconds * 1000,
    async () => {
      const r = await repairRollups(db, { days: opts.days, retentionDays: opts.retentionDays });
      if (r.usageRows + r.qualityRows > 0) opts.onRepaired(r);
    },
    opts.onError,
  );
}
