// SQL of the call history. Runs as the user: RLS already hides calls the user may
// not see; these queries narrow further to calls the user created or took part in.
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';

/** A call as the history and the operator API both read it (each SELECT adds its own counts). */
export interface CallBaseRow {
  call_id: string;
  room_id: string | null;
  room_name: string;
  name: string;
  call_type: string;
  status: string;
  started_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  participant_count: number;
  max_participants: number;
  files_shared: number;
  avg_quality_score: number | null;
  created_by: string;
  creator_display_name: string | null;
  creator_aura_id: string | null;
  created_at: Date;
  created_key: string;
}

export interface CallRow extends CallBaseRow {
  people_joined: number;
}

// call_members holds the creator and every signed-in user who took part (005).
const MINE = `EXISTS (SELECT 1 FROM call_members m WHERE m.user_id = $1 AND m.call_id = c.call_id)`;

// people_joined: distinct identities that joined, counted by app.call_people_joined with
// the participants' policy checked once per call rather than per session row (024).
// No SQL comments inside the text: bench/list-sql.ts runs it on one line under pgbench.
const SELECT = `SELECT c.call_id, c.room_id, c.room_name, c.name, c.call_type, c.status, c.started_at, c.ended_at,
    c.duration_seconds, c.participant_count, c.max_participants, c.avg_quality_score, c.created_by, c.created_at,
    c.created_at::text AS created_key,
    (SELECT count(*)::int FROM files f WHERE f.call_id = c.call_id) AS files_shared,
    app.call_people_joined(c.call_id) AS people_joined,
    u.display_name AS creator_display_name, u.aura_id AS creator_aura_id
  FROM calls c LEFT JOIN user_profiles u ON u.user_id = c.created_by`;

export interface CallFilter {
  userId: string;
  status: string | null;
  callType: string | null;
  from: string | null;
  to: string | null;
  after: { created: string; id: string } | null;
  limit: number;
}

export async function list(sql: Sql, f: CallFilter): Promise<CallRow[]> {
  // Driven by the user's own history index, newest first: reads about `limit` rows
  // however many calls exist (status and type filters skip within those rows).
  const p = new Params(f.userId);
  p.where(f.status, () => `c.status = ${p.add(f.status)}`)
    .where(f.callType, () => `c.call_type = ${p.add(f.callType)}`)
    .where(f.from, () => `m.call_created_at >= ${p.add(f.from)}::timestamptz`)
    .where(f.to, () => `m.call_created_at < ${p.add(f.to)}::timestamptz`)
    .where(f.after, () => `(m.call_created_at, m.call_id) < (${p.add(f.after!.created)}::timestamptz, ${p.add(f.after!.id)}::uuid)`);
  const limit = p.add(f.limit);
  const { rows } = await sql.query<CallRow>(
    `${SELECT}
       JOIN call_members m ON m.call_id = c.call_id AND m.user_id = $1
      WHERE true${p.and()}
      ORDER BY m.call_created_at DESC, m.call_id DESC
      LIMIT ${limit}`,
    p.values,
  );
  return rows;
}

export async function findMine(sql: Sql, userId: string, callId: string): Promise<CallRow | null> {
  const { rows } = await sql.query<CallRow>(`${SELECT} WHERE ${MINE} AND c.call_id = $2`, [userId, callId]);
  return rows[0] ?? null;
}
