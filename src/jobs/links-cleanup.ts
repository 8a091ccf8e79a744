// Invite-link housekeeping (see app.links_cleanup): deleting each past day's visitor
// salt is what makes the unique-visitor hashes anonymous, so this must run at least
// daily. Safe on N instances: a run takes a transaction-level advisory lock.
import type { Database } from '../db/database.ts';
import { PASSWORD_WINDOW_SECONDS } from '../domains/links/join.service.ts';
import type { Job } from './index.ts';
import { periodic } from './periodic.ts';

const LOCK_KEY = 727_005; // fixed: the links-cleanup lock of this service

export async function runLinksCleanup(db: Database): Promise<{ ran: boolean; deleted: number }> {
  return db.privileged(async (sql) => {
    const { rows } = await sql.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOCK_KEY]);
    if (!rows[0]!.locked) return { ran: false, deleted: 0 };
    const res = await sql.query<{ n: number }>('SELECT app.links_cleanup($1) AS n', [PASSWORD_WINDOW_SECONDS]);
    await sql.query('SELECT clean_expired_links()');
    return { ran: true, deleted: res.rows[0]!.n };
  });
}

export function startLinksCleanup(db: Database, opts: { intervalSeconds: number; onError(err: unknown): void }): Job {
  return periodic('links-cleanup', opts.intervalSeconds * 1000, () => runLinksCleanup(db), opts.onError);
}
