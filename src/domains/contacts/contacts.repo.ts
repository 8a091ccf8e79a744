// All SQL of the contacts domain. Runs inside the caller's RLS scope: contacts are
// readable and writable by their owner only; other users' profiles come from the
// user_profiles view and presence from app.contact_in_call() (one contact) or
// app.contact_page() (a page).
import type { Sql } from '../../db/database.ts';

export interface ContactRow {
  contact_id: string;
  contact_user_id: string;
  aura_id: string | null;
  display_name: string | null;
  avatar_url: string | null;
  in_call: boolean;
  relationship_type: 'friend' | 'colleague';
  nickname: string | null;
  is_favorite: boolean;
  is_blocked: boolean;
  notes: string | null;
  tags: string[];
  /** ISO 8601 in UTC with milliseconds, as Date.toISOString() writes it. */
  created_at: string;
  updated_at: string;
  /** created_at with microseconds, for the keyset cursor. */
  created_key: string;
}

export interface ContactFields {
  relationship_type?: 'friend' | 'colleague';
  nickname?: string | null;
  notes?: string | null;
  tags?: string[];
  is_favorite?: boolean;
  is_blocked?: boolean;
}

export interface ContactFilter {
  relationship_type?: string;
  is_favorite?: boolean;
  is_blocked?: boolean;
  tag?: string;
  q?: string;
  after?: { created_key: string; contact_id: string } | null;
  limit: number;
}

// Times leave PostgreSQL already in the contract's form (what Date.toISOString() gives,
// milliseconds truncated as pg's Date parsing truncates them): parsing 42 timestamps per
// page into Dates only to print them again was 11% of a contacts page's JavaScript.
const ROW_REST = `c.relationship_type, c.nickname, c.is_favorite, c.is_blocked, c.notes, c.tags,
         to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at,
         to_char(c.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at,
         to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_key`;
const SELECT = `
  SELECT c.contact_id, c.contact_user_id, p.aura_id, p.display_name, p.avatar_url,
         app.contact_in_call(c.contact_user_id) AS in_call,
         ${ROW_REST}
    FROM contacts c
    LEFT JOIN user_profiles p ON p.user_id = c.contact_user_id`;

/** The visible, active user with this id or AuraID, or null. */
export async function findUser(sql: Sql, by: { userId?: string; auraId?: string }): Promise<string | null> {
  const { rows } = await sql.query<{ user_id: string }>(
    `SELECT user_id FROM user_profiles WHERE ${by.userId ? 'user_id = $1::uuid' : 'aura_id = $1'}`,
    [by.userId ?? by.auraId],
  );
  return rows[0]?.user_id ?? null;
}

export async function insert(sql: Sql, userId: string, contactUserId: string, f: ContactFields): Promise<string> {
  const { rows } = await sql.query<{ contact_id: string }>(
    `INSERT INTO contacts (user_id, contact_user_id, relationship_type, nickname, notes, tags, is_favorite, is_blocked)
     VALUES ($1, $2, coalesce($3, 'friend'), $4, $5, coalesce($6::text[], '{}'), coalesce($7, false), coalesce($8, false))
     RETURNING contact_id`,
    [userId, contactUserId, f.relationship_type ?? null, f.nickname ?? null, f.notes ?? null, f.tags ?? null,
      f.is_favorite ?? null, f.is_blocked ?? null],
  );
  return rows[0]!.contact_id;
}

export async function findById(sql: Sql, contactId: string): Promise<ContactRow | null> {
  const { rows } = await sql.query<ContactRow>(`${SELECT} WHERE c.contact_id = $1`, [contactId]);
  return rows[0] ?? null;
}

const EDITABLE = ['relationship_type', 'nickname', 'notes', 'tags', 'is_favorite', 'is_blocked'] as const;

export async function update(sql: Sql, contactId: string, f: ContactFields): Promise<boolean> {
  // Column names come from the fixed EDITABLE list, never from input.
  const fields = EDITABLE.filter((k) => f[k] !== undefined);
  if (fields.length === 0) {
    const { rowCount } = await sql.query('SELECT 1 FROM contacts WHERE contact_id = $1', [contactId]);
    return rowCount === 1;
  }
  const sets = fields.map((k, i) => `${k} = $${i + 2}`).join(', ');
  const { rowCount } = await sql.query(`UPDATE contacts SET ${sets} WHERE contact_id = $1`, [
    contactId,
    ...fields.map((k) => f[k]),
  ]);
  return rowCount === 1;
}

export async function remove(sql: Sql, contactId: string): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM contacts WHERE contact_id = $1', [contactId]);
  return rowCount === 1;
}

export async function list(sql: Sql, f: ContactFilter): Promise<ContactRow[]> {
  // app.contact_page picks the page and each contact's presence in one call (migration
  // 022: one plan kept per connection, instead of a search planned anew and a presence
  // function planned and run per row); the rows themselves are read under the caller's
  // RLS scope.
  const { rows } = await sql.query<ContactRow>(
    `SELECT c.contact_id, c.contact_user_id, p.aura_id, p.display_name, p.avatar_url, s.in_call,
            ${ROW_REST}
       FROM app.contact_page($1, $2, $3, $4, $5, $6, $7, $8) s
       JOIN contacts c ON c.contact_id = s.contact_id
       LEFT JOIN user_profiles p ON p.user_id = c.contact_user_id
      ORDER BY c.created_at DESC, c.contact_id DESC`,
    [f.q ?? null, f.tag ?? null, f.relationship_type ?? null, f.is_favorite ?? null, f.is_blocked ?? null,
      f.after?.created_key ?? null, f.after?.contact_id ?? null, f.limit + 1],
  );
  return rows;
}
