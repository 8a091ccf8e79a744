// All SQL of the users domain. Runs inside the caller's RLS scope.
import type { Sql } from '../../db/database.ts';

export interface UserRow {
  user_id: string;
  email: string | null;
  aura_id: string | null;
  username: string | null;
  display_name: string | null;
  avatar_url: string | null;
  created_at: Date;
}

export interface PublicProfile {
  user_id: string;
  aura_id: string | null;
  username: string | null;
  display_name: string | null;
  avatar_url: string | null;
}

const USER_COLUMNS = 'user_id, email, aura_id, username, display_name, avatar_url, created_at';

export interface NewUser {
  user_id: string;
  email: string | null;
  aura_id: string | null;
  username: string | null;
  display_name: string | null;
}

/** Inserts the user unless present; true when this call created it. */
export async function insertIfMissing(sql: Sql, u: NewUser): Promise<boolean> {
  const { rowCount } = await sql.query(
    `INSERT INTO users (user_id, email, aura_id, username, display_name, last_login_at)
     VALUES ($1, $2, $3, $4, $5, now())
     ON CONFLICT (user_id) DO NOTHING`,
    [u.user_id, u.email, u.aura_id, u.username, u.display_name],
  );
  return rowCount === 1;
}

export async function findById(sql: Sql, userId: string): Promise<UserRow | null> {
  const { rows } = await sql.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE user_id = $1`, [userId]);
  return rows[0] ?? null;
}

export type ProfilePatch = Partial<Pick<UserRow, 'display_name' | 'avatar_url' | 'aura_id' | 'username'>>;

export async function update(sql: Sql, userId: string, patch: ProfilePatch): Promise<UserRow | null> {
  const fields = Object.entries(patch).filter(([, v]) => v !== undefined);
  if (fields.length === 0) return findById(sql, userId);
  // Column names come from the fixed ProfilePatch keys, never from input.
  const sets = fields.map(([k], i) => `${k} = $${i + 2}`).join(', ');
  const { rows } = await sql.query<UserRow>(
    `UPDATE users SET ${sets} WHERE user_id = $1 RETURNING ${USER_COLUMNS}`,
    [userId, ...fields.map(([, v]) => v)],
  );
  return rows[0] ?? null;
}

export async function profileByAuraId(sql: Sql, auraId: string): Promise<PublicProfile | null> {
  const { rows } = await sql.query<PublicProfile>(
    'SELECT user_id, aura_id, username, display_name, avatar_url FROM user_profiles WHERE aura_id = $1',
    [auraId],
  );
  return rows[0] ?? null;
}

export async function profilesByIds(sql: Sql, ids: string[]): Promise<PublicProfile[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql.query<PublicProfile>(
    'SELECT user_id, aura_id, username, display_name, avatar_url FROM user_profiles WHERE user_id = ANY($1::uuid[])',
    [ids],
  );
  return rows;
}

/** Which of the unique profile fields are already taken by someone else. */
export async function takenFields(sql: Sql, u: NewUser): Promise<Array<'aura_id' | 'username'>> {
  const { rows } = await sql.query<{ aura: boolean; uname: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM user_profiles WHERE aura_id = $1 AND user_id <> $3) AS aura,
            EXISTS (SELECT 1 FROM user_profiles WHERE username = $2 AND user_id <> $3) AS uname`,
    [u.aura_id, u.username, u.user_id],
  );
  const r = rows[0]!;
  return [...(r.aura ? (['aura_id'] as const) : []), ...(r.uname ? (['username'] as const) : [])];
}
