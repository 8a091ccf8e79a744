// The list-calls baseline: the calls repository's own SQL, as pgbench runs it inside the
// same RLS settings the service makes, and a cursor deep in one user's history.
import pg from 'pg';
import * as callsRepo from '../src/domains/calls/calls.repo.ts';
import type { Sql } from '../src/db/database.ts';
import { userId } from './dataset.ts';

/** The calls repository's own list SQL, captured with a recording Sql, with its parameters inlined for pgbench. */
export async function listCallsSql(after: { created: string; id: string } | null): Promise<string> {
  let text = '';
  let params: unknown[] = [];
  const recorder = { query: async (t: string, p: unknown[]) => ((text = t), (params = p), { rows: [] }) } as unknown as Sql;
  await callsRepo.list(recorder, { userId: 'UID', status: null, callType: null, from: null, to: null, after, limit: 21 });
  const lit = (v: unknown) => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${String(v).replace(/'/g, "''")}'`);
  const uid = `('00000000-0000-4000-8000-' || lpad(:i::text, 12, '0'))::uuid`;
  for (let n = params.length; n >= 1; n--) text = text.replaceAll(`$${n}`, n === 1 ? uid : lit(params[n - 1]));
  return text;
}

export function pgbenchScript(sql: string, fixedUser: number | null, users: number): string {
  return [
    fixedUser === null ? `\\set i random(1, ${users})` : `\\set i ${fixedUser}`,
    // The settings Database.asUser() makes before the query. The service sends BEGIN and
    // them as one simple-protocol message; pgbench's prepared mode cannot combine
    // statements, so here they are two round trips (the baseline pays one more).
    'BEGIN;',
    `SELECT set_config('role', 'auralink_app', true), set_config('app.user_id', '00000000-0000-4000-8000-' || lpad(:i::text, 12, '0'), true), set_config('statement_timeout', '15000', true);`,
    `${sql.replace(/\s+/g, ' ').trim()};`,
    'COMMIT;',
    '',
  ].join('\n');
}

/** The cursor of the row halfway down one user's history (read as the owner from the history index the service lists from). */
export async function deepCursor(url: string, rank: number) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const total = (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM call_members WHERE user_id = $1`, [userId(rank)])).rows[0]!.n;
  const offset = Math.floor(total / 2);
  const { rows } = await c.query<{ created: string; id: string }>(
    `SELECT call_created_at::text AS created, call_id AS id FROM call_members WHERE user_id = $1
      ORDER BY call_created_at DESC, call_id DESC OFFSET $2 LIMIT 1`,
    [userId(rank), offset],
  );
  await c.end();
  return rows[0] ? { ...rows[0], offset, total } : null;
}

