// Deletes quality samples older than QUALITY_RETENTION_DAYS. quality_metrics grows
// fastest of all tables; averages live on in quality_rollups and the participant
// and call rows, so only the raw series is lost. Safe on N instances: a run takes a
// transaction-level advisory lock and another instance finding it taken skips.
import type { Database } from '../db/database.ts';
import type { Job } from './index.ts';
import { periodic } from './periodic.ts';

const LOCK_KEY = 727_004; // fixed: the quality-retention lock of this service
const BATCH = 5000;
// Bounds one run's transaction; a backlog is worked off over the following runs.
const MAX_BATCHES_PER_RUN = 20;

export interface RetentionResult {
  ran: boolean;
  deleted: number;
}

export async function runQualityRetention(db: Database, retentionDays: number, now = new Date()): Promise<RetentionResult> {
  const before = new Date(now.getTime() - retentionDays * 86_400_000);
  return db.privileged(async (sql) => {
    const { rows } = await sql.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOCK_KEY]);
    if (!rows[0]!.locked) return { ran: false, deleted: 0 };
    let deleted = 0;
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const res = await sql.query<{ n: number }>('SELECT app.quality_delete_before($1, $2) AS n', [before, BATCH]);
      deleted += res.rows[0]!.n;
      if (res.rows[0]!.n < BATCH) break;
    }
    return { ran: true, deleted };
  });
}

export function startQualityRetention(
  db: Database,
  opts: { retentionDays: number; intervalSeconds: number; onError(err: unknown): void },
): Job {
  return periodic('quality-retention', opts.intervalSeconds * 1000, () => runQualityRetention(db, opts.retentionDays), opts.onError);
}
