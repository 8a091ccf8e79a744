// Old live events go: clients resume from call_events only within minutes, so a
// day is plenty for diagnosis. Processed webhook ids are kept a week, far beyond
// LiveKit's retry horizon. Plain batched deletes are safe on N instances.
import type { Database } from '../db/database.ts';
import type { Job } from './index.ts';
import { periodic } from './periodic.ts';

export const EVENTS_RETENTION_SECONDS = 86_400;
export const WEBHOOK_IDS_RETENTION_SECONDS = 7 * 86_400;

export async function cleanupEvents(
  db: Database,
  opts: { eventsOlderThanSeconds?: number; webhooksOlderThanSeconds?: number; batch?: number } = {},
): Promise<{ events: number; webhooks: number }> {
  const batch = opts.batch ?? 5000;
  const del = async (table: 'call_events' | 'webhook_events', key: string, at: string, age: number) => {
    let total = 0;
    for (;;) {
      const n = await db.privileged(async (sql) => {
        const { rowCount } = await sql.query(
          `DELETE FROM ${table} WHERE ${key} IN (
             SELECT ${key} FROM ${table} WHERE ${at} < now() - make_interval(secs => $1) LIMIT $2)`,
          [age, batch],
        );
        return rowCount ?? 0;
      });
      total += n;
      if (n < batch) return total;
    }
  };
  return {
    events: await del('call_events', 'event_id', 'created_at', opts.eventsOlderThanSeconds ?? EVENTS_RETENTION_SECONDS),
    webhooks: await del(
      'webhook_events',
      'event_id',
      'received_at',
      opts.webhooksOlderThanSeconds ?? WEBHOOK_IDS_RETENTION_SECONDS,
    ),
  };
}

export function startEventsCleanup(db: Database, opts: { intervalSeconds: number; onError(err: unknown): void }): Job {
  return periodic('events-cleanup', opts.intervalSeconds * 1000, () => cleanupEvents(db), opts.onError);
}
