// All SQL of invite links and the waiting room. Owner operations run in the owner's
// RLS scope; the public /join paths use the SECURITY DEFINER functions of
// migration 004, or the privileged transaction that admits a joiner.
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';

export interface LinkRow {
  link_id: string;
  short_code: string;
  call_id: string;
  link_type: 'room' | 'call';
  title: string | null;
  description: string | null;
  access_type: 'public' | 'password' | 'restricted';
  max_uses: number | null;
  current_uses: number;
  expires_at: Date | null;
  default_role: 'moderator' | 'participant' | 'viewer';
  require_approval: boolean;
  is_active: boolean;
  total_clicks: number;
  unique_visitors: number;
  last_used_at: Date | null;
  created_at: Date;
  created_key: string;
}

const COLUMNS = `link_id, short_code, call_id, link_type, title, description, access_type, max_uses, current_uses,
  expires_at, default_role, require_approval, is_active, total_clicks, unique_visitors, last_used_at, created_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`;

export interface NewLink {
  short_code: string;
  call_id: string;
  created_by: string;
  link_type: string;
  title: string | null;
  description: string | null;
  access_type: string;
  password_hash: string | null;
  max_uses: number | null;
  expires_in_seconds: number | null;
  default_role: string;
  require_approval: boolean;
}

/** 'none' when the call is not visible to the caller, else whether the caller created it. */
export async function callOwnership(sql: Sql, callId: string, userId: string): Promise<'none' | 'other' | 'creator'> {
  const { rows } = await sql.query<{ created_by: string }>('SELECT created_by FROM calls WHERE call_id = $1', [callId]);
  if (!rows[0]) return 'none';
  return rows[0].created_by === userId ? 'creator' : 'other';
}

export async function insert(sql: Sql, l: NewLink): Promise<LinkRow> {
  const { rows } = await sql.query<LinkRow>(
    `INSERT INTO shareable_links (short_code, call_id, room_id, created_by, link_type, title, description, access_type,
        password_hash, max_uses, expires_at, default_role, require_approval)
     SELECT $1, $2, c.room_id, $3, $4, $5, $6, $7, $8, $9,
            CASE WHEN $10::integer IS NULL THEN NULL ELSE now() + make_interval(secs => $10::integer) END, $11, $12
       FROM calls c WHERE c.call_id = $2
     RETURNING ${COLUMNS}`,
    [l.short_code, l.call_id, l.created_by, l.link_type, l.title, l.description, l.access_type, l.password_hash,
      l.max_uses, l.expires_in_seconds, l.default_role, l.require_approval],
  );
  return rows[0]!;
}

export async function findById(sql: Sql, linkId: string): Promise<(LinkRow & { password_hash: string | null }) | null> {
  const { rows } = await sql.query<LinkRow & { password_hash: string | null }>(
    `SELECT ${COLUMNS}, password_hash FROM shareable_links WHERE link_id = $1`,
    [linkId],
  );
  return rows[0] ?? null;
}

export async function list(
  sql: Sql,
  f: { callId?: string; after: { created_key: string; link_id: string } | null; limit: number },
): Promise<LinkRow[]> {
  const p = new Params();
  p.where(f.callId, () => `call_id = ${p.add(f.callId)}::uuid`)
    .where(f.after, () => `(created_at, link_id) < (${p.add(f.after!.created_key)}::timestamptz, ${p.add(f.after!.link_id)}::uuid)`);
  const limit = p.add(f.limit + 1);
  const { rows } = await sql.query<LinkRow>(
    `SELECT ${COLUMNS} FROM shareable_links
      WHERE true${p.and()}
      ORDER BY created_at DESC, link_id DESC LIMIT ${limit}`,
    p.values,
  );
  return rows;
}

export interface LinkPatch {
  title?: string | null;
  description?: string | null;
  access_type?: string;
  password_hash?: string | null;
  max_uses?: number | null;
  expires_in_seconds?: number | null;
  default_role?: string;
  require_approval?: boolean;
  is_active?: boolean;
}

const PLAIN = ['title', 'description', 'access_type', 'password_hash', 'max_uses', 'default_role', 'require_approval', 'is_active'] as const;

export async function update(sql: Sql, linkId: string, p: LinkPatch): Promise<boolean> {
  // Column names come from the fixed PLAIN list, never from input.
  const sets: string[] = [];
  const params: unknown[] = [linkId];
  for (const k of PLAIN) {
    if (p[k] === undefined) continue;
    params.push(p[k]);
    sets.push(`${k} = $${params.length}`);
  }
  if (p.expires_in_seconds !== undefined) {
    params.push(p.expires_in_seconds);
    sets.push(`expires_at = CASE WHEN $${params.length}::integer IS NULL THEN NULL
                                 ELSE now() + make_interval(secs => $${params.length}::integer) END`);
  }
  const { rowCount } = await sql.query(
    sets.length ? `UPDATE shareable_links SET ${sets.join(', ')} WHERE link_id = $1` : 'SELECT 1 FROM shareable_links WHERE link_id = $1',
    params,
  );
  return rowCount === 1;
}

export async function remove(sql: Sql, linkId: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM shareable_links WHERE link_id = $1', [linkId]);
  return rowCount === 1;
}

export interface VisitDayRow {
  link_id: string;
  day: string;
  clicks: number;
  unique_visitors: number;
}

const VISIT_DAY = `link_id, to_char(day, 'YYYY-MM-DD') AS day, clicks, unique_visitors`;

/** Days with visits of one link in [from, to) (UTC dates), oldest first; RLS: the owner's links. */
export async function visitDays(sql: Sql, linkId: string, from: string, to: string): Promise<VisitDayRow[]> {
  const { rows } = await sql.query<VisitDayRow>(
    `SELECT ${VISIT_DAY} FROM link_visit_days WHERE link_id = $1 AND day >= $2::date AND day < $3::date ORDER BY day`,
    [linkId, from, to],
  );
  return rows;
}

/** Every day with visits of a call's links (bounded: a call's worth), oldest first. */
export async function visitDaysForCall(sql: Sql, callId: string, limit = 10_000): Promise<VisitDayRow[]> {
  const { rows } = await sql.query<VisitDayRow>(
    `SELECT ${VISIT_DAY} FROM link_visit_days
      WHERE link_id IN (SELECT link_id FROM shareable_links WHERE call_id = $1)
      ORDER BY day, link_id LIMIT $2`,
    [callId, limit],
  );
  return rows;
}

// ---------------------------------------------------------------- public paths

export interface Preview {
  title: string | null;
  description: string | null;
  name: string;
  call_type: string;
  access_type: string;
  requires_password: boolean;
  require_approval: boolean;
  expires_at: Date | null;
  live: boolean;
}

export async function visit(sql: Sql, code: string, client: string): Promise<Preview | null> {
  const { rows } = await sql.query<Preview>('SELECT * FROM app.link_visit($1, $2)', [code, client]);
  return rows[0] ?? null;
}

export interface JoinableLink {
  link_id: string;
  call_id: string;
  created_by: string;
  access_type: 'public' | 'password' | 'restricted';
  password_hash: string | null;
  require_approval: boolean;
  default_role: 'moderator' | 'participant' | 'viewer';
  live: boolean;
}

export async function forJoin(sql: Sql, code: string): Promise<JoinableLink | null> {
  const { rows } = await sql.query<JoinableLink>('SELECT * FROM app.link_for_join($1)', [code]);
  return rows[0] ?? null;
}

export async function isContactOf(sql: Sql, ownerId: string): Promise<boolean> {
  const { rows } = await sql.query<{ ok: boolean }>('SELECT app.is_contact_of($1) AS ok', [ownerId]);
  return rows[0]!.ok;
}

/** Seconds to wait when over the limit, else 0 (the attempt is counted either way). */
export async function passwordAttempt(sql: Sql, linkId: string, client: string, windowSeconds: number, max: number) {
  const { rows } = await sql.query<{ wait: number }>('SELECT app.link_password_attempt($1, $2, $3, $4) AS wait', [
    linkId, client, windowSeconds, max,
  ]);
  return rows[0]!.wait;
}

export async function passwordPassed(sql: Sql, linkId: string, client: string): Promise<void> {
  await sql.query('SELECT app.link_password_passed($1, $2)', [linkId, client]);
}

/** Privileged: takes one use of a live link atomically; false when none is left. */
export async function claimUse(sql: Sql, linkId: string): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE shareable_links l SET current_uses = current_uses + 1, last_used_at = now()
      WHERE link_id = $1 AND app.link_is_live(l)`,
    [linkId],
  );
  return rowCount === 1;
}
