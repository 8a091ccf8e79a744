// All SQL of rooms (a room and its call are one row of calls). Runs in the caller's
// scope: as the user for requests (RLS decides what exists), privileged for guests.
import type { Role } from '../../adapters/livekit.ts';
import type { Sql } from '../../db/database.ts';
import { Params } from '../../db/params.ts';

export type CallStatus = 'waiting' | 'active' | 'ended' | 'failed';

export interface RoomRow {
  call_id: string;
  room_id: string | null;
  room_name: string;
  name: string;
  created_by: string;
  call_type: string;
  status: CallStatus;
  privacy: 'private' | 'public';
  max_participants: number;
  participant_count: number;
  recording_enabled: boolean;
  screen_sharing_enabled: boolean;
  file_sharing_enabled: boolean;
  metadata: Record<string, unknown>;
  created_at: Date;
  /** created_at with Postgres's microseconds, for cursors. */
  created_key: string;
}

const ROOM_COLUMNS = `call_id, room_id, room_name, name, created_by, call_type, status, privacy, max_participants,
  participant_count, recording_enabled, screen_sharing_enabled, file_sharing_enabled, metadata, created_at,
  created_at::text AS created_key`;

export interface NewRoom {
  call_id: string;
  room_id: string | null;
  room_name: string;
  name: string;
  created_by: string;
  call_type: string;
  privacy: string;
  max_participants: number;
  recording_enabled: boolean;
  screen_sharing_enabled: boolean;
  file_sharing_enabled: boolean;
  metadata: Record<string, unknown>;
}

export async function insert(sql: Sql, r: NewRoom): Promise<RoomRow> {
  const { rows } = await sql.query<RoomRow>(
    `INSERT INTO calls (call_id, room_id, room_name, name, created_by, call_type, privacy, max_participants,
       recording_enabled, screen_sharing_enabled, file_sharing_enabled, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
     RETURNING ${ROOM_COLUMNS}`,
    [
      r.call_id, r.room_id, r.room_name, r.name, r.created_by, r.call_type, r.privacy, r.max_participants,
      r.recording_enabled, r.screen_sharing_enabled, r.file_sharing_enabled, JSON.stringify(r.metadata),
    ],
  );
  return rows[0]!;
}

export async function addInvitees(sql: Sql, callId: string, invitedBy: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await sql.query(
    `INSERT INTO call_invitees (call_id, user_id, invited_by)
     SELECT $1, u, $2 FROM unnest($3::uuid[]) AS u ON CONFLICT DO NOTHING`,
    [callId, invitedBy, userIds],
  );
}

export interface InviteeMatch {
  user_id: string;
  aura_id: string | null;
  /** The invitee has blocked the current user (the room's creator). */
  blocked: boolean;
}

/** Profiles matching the given ids or AuraIDs, with whether each blocked the caller. */
export async function findInvitees(sql: Sql, ids: string[], auraIds: string[]): Promise<InviteeMatch[]> {
  const { rows } = await sql.query<InviteeMatch>(
    `SELECT user_id, aura_id, app.is_blocked_by(user_id) AS blocked
       FROM user_profiles
      WHERE user_id = ANY($1::uuid[]) OR aura_id = ANY($2::text[])`,
    [ids, auraIds],
  );
  return rows;
}

/** By call_id when the key is a UUID, else by room_name; RLS hides what the caller may not see. */
export async function findByKey(sql: Sql, key: string, isUuid: boolean): Promise<RoomRow | null> {
  const { rows } = await sql.query<RoomRow>(
    `SELECT ${ROOM_COLUMNS} FROM calls WHERE ${isUuid ? 'call_id = $1::uuid' : 'room_name = $1'}`,
    [key],
  );
  return rows[0] ?? null;
}

export interface ListRoomsQuery {
  userId: string;
  statuses: CallStatus[] | null;
  after: { created: string; id: string } | null;
  limit: number;
}

/** Rooms the user created, was invited to or took part in, newest first. */
export async function listForMember(sql: Sql, q: ListRoomsQuery): Promise<RoomRow[]> {
  const p = new Params(q.userId);
  p.where(q.statuses, () => `c.status = ANY(${p.add(q.statuses)}::text[])`)
    .where(q.after, () => `(c.created_at, c.call_id) < (${p.add(q.after!.created)}::timestamptz, ${p.add(q.after!.id)}::uuid)`);
  const limit = p.add(q.limit);
  const { rows } = await sql.query<RoomRow>(
    `SELECT ${ROOM_COLUMNS} FROM calls c
      WHERE c.call_id IN (SELECT m.call_id FROM call_members m WHERE m.user_id = $1
                          UNION ALL SELECT i.call_id FROM call_invitees i WHERE i.user_id = $1)${p.and()}
      ORDER BY c.created_at DESC, c.call_id DESC
      LIMIT ${limit}`,
    p.values,
  );
  return rows;
}

/**
 * Ends a call: status ended (the trigger stamps ended_at and the duration) and every
 * session still open leaves at the same moment. Returns false when already ended.
 */
export async function endCall(sql: Sql, callId: string, at: Date | null): Promise<boolean> {
  const { rowCount } = await sql.query(
    `UPDATE calls SET status = 'ended', ended_at = coalesce($2::timestamptz, now())
      WHERE call_id = $1 AND status NOT IN ('ended', 'failed')`,
    [callId, at],
  );
  if (rowCount === 0) return false;
  await sql.query(
    `UPDATE call_participants
        SET status = 'left', left_at = greatest(coalesce($2::timestamptz, now()), joined_at),
            audio_enabled = false, video_enabled = false, screen_sharing = false
      WHERE call_id = $1 AND status IN ('waiting', 'connected')`,
    [callId, at],
  );
  return true;
}

/** Serializes changes to one call's live state (ending, webhooks, reconciliation) in this transaction. */
export async function lockCall(sql: Sql, callId: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtextextended('call:' || $1::text, 0))`, [callId]);
}

/**
 * The shared side of lockCall: token grants for one call run side by side, but never
 * while the call is being ended or a webhook for it is being applied.
 */
export async function lockCallShared(sql: Sql, callId: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock_shared(hashtextextended('call:' || $1::text, 0))`, [callId]);
}

export interface JoinState {
  room_name: string;
  status: CallStatus;
  max_participants: number;
  screen_sharing_enabled: boolean;
  /** max_participants identities other than the joiner's are connected now. */
  full: boolean;
  /** The joiner's untaken seat (at most one: migration 006), or nulls. */
  seat_id: string | null;
  seat_user_id: string | null;
  seat_display_name: string | null;
  seat_role: Role | null;
  /** The seat's metadata equals the one the grant would write. */
  seat_same_metadata: boolean | null;
}

/**
 * The state a grant decides on, for `where` naming the call as `c`; $2 is the joiner's
 * identity, $3 the seat metadata the grant would write (jsonb text).
 *
 * `full` counts connected identities only when the call's connected sessions
 * (participant_count, kept by trigger) reach max_participants: fewer sessions cannot be
 * that many identities. The count filters every connected session through the
 * participants' RLS policy, so in a webinar room it is most of the grant's cost.
 *
 * The seat comes along so that a grant that would write nothing new (a re-grant with the
 * same name, role and metadata) writes nothing: the seat's row, its triggers, the RLS
 * checks of the upsert and the commit's WAL flush are then skipped.
 */
const joinStateSql = (where: string) =>
  `SELECT c.room_name, c.status, c.max_participants, c.screen_sharing_enabled,
          CASE WHEN c.participant_count < c.max_participants THEN false
               ELSE (SELECT count(DISTINCT p.identity) FROM call_participants p
                      WHERE p.call_id = c.call_id AND p.status = 'connected' AND p.identity <> $2) >= c.max_participants
          END AS full,
          s.participant_id AS seat_id, s.user_id AS seat_user_id, s.display_name AS seat_display_name,
          s.role AS seat_role, s.metadata = $3::jsonb AS seat_same_metadata
     FROM calls c
     LEFT JOIN call_participants s
       ON s.call_id = c.call_id AND s.identity = $2 AND s.status = 'waiting' AND s.participant_sid IS NULL
    WHERE ${where}`;

/** What a grant decides on, in one statement; null when the call is not visible. */
export async function joinState(sql: Sql, callId: string, identity: string, seatMetadata: string): Promise<JoinState | null> {
  const { rows } = await sql.query<JoinState>(joinStateSql('c.call_id = $1'), [callId, identity, seatMetadata]);
  return rows[0] ?? null;
}

export interface GrantTarget {
  call_id: string;
  created_by: string;
  /** The caller's display name, username or AuraID, whichever is set first. */
  caller_name: string | null;
}

/**
 * The call a grant is for (named by id or room name), the caller's name, and the shared
 * side of the call's lock, in one statement: the lock is taken only on a call the caller
 * may see. joinStateByKey is written right behind it in the same round trip; PostgreSQL
 * runs them in order, so the state is read in a snapshot taken after the lock is held.
 * (The lookup, the name and the lock were three statements: each costs the backend a
 * bind, an executor start and its RLS checks, and the driver a result.)
 */
export async function findForGrant(sql: Sql, key: string, isUuid: boolean, userId: string): Promise<GrantTarget | null> {
  const { rows } = await sql.query<GrantTarget & { locked: unknown }>(
    `SELECT call_id, created_by,
            (SELECT coalesce(display_name, username, aura_id) FROM users WHERE user_id = $2) AS caller_name,
            pg_advisory_xact_lock_shared(hashtextextended('call:' || call_id::text, 0)) AS locked
       FROM calls WHERE ${isUuid ? 'call_id = $1::uuid' : 'room_name = $1'}`,
    [key, userId],
  );
  const row = rows[0];
  return row ? { call_id: row.call_id, created_by: row.created_by, caller_name: row.caller_name } : null;
}

/** joinState for a call named by its key, written behind findForGrant (see there). */
export async function joinStateByKey(
  sql: Sql,
  key: string,
  isUuid: boolean,
  identity: string,
  seatMetadata: string,
): Promise<JoinState | null> {
  const { rows } = await sql.query<JoinState>(joinStateSql(isUuid ? 'c.call_id = $1::uuid' : 'c.room_name = $1'), [
    key,
    identity,
    seatMetadata,
  ]);
  return rows[0] ?? null;
}

export interface LiveCall {
  call_id: string;
  room_id: string | null;
  room_name: string;
  status: CallStatus;
  ended_at: Date | null;
}

/** Privileged: the call behind a LiveKit room name (webhooks, reconciliation). */
export async function findLiveCall(sql: Sql, roomName: string): Promise<LiveCall | null> {
  const { rows } = await sql.query<LiveCall>(
    'SELECT call_id, room_id, room_name, status, ended_at FROM calls WHERE room_name = $1',
    [roomName],
  );
  return rows[0] ?? null;
}

/** Privileged: calls that LiveKit should know about (reconciliation). */
export async function openCalls(sql: Sql): Promise<LiveCall[]> {
  const { rows } = await sql.query<LiveCall>(
    `SELECT call_id, room_id, room_name, status, ended_at FROM calls WHERE status IN ('waiting', 'active')`,
  );
  return rows;
}

/**
 * Someone joined at `at`: the call is active (unless ended) and started at its
 * earliest known join. The duration of an ended call follows a moved start.
 * Returns true when the call became active with this join.
 */
export async function markStarted(sql: Sql, callId: string, at: Date): Promise<boolean> {
  const { rows } = await sql.query<{ became_active: boolean }>(
    `WITH old AS (SELECT call_id, status AS was FROM calls WHERE call_id = $1)
     UPDATE calls c
        SET started_at = least(coalesce(c.started_at, $2), $2),
            status = CASE WHEN c.status = 'waiting' THEN 'active' ELSE c.status END,
            duration_seconds = CASE WHEN c.ended_at IS NULL THEN c.duration_seconds
              ELSE greatest(0, floor(extract(epoch FROM c.ended_at - least(coalesce(c.started_at, $2), $2))))::int END
       FROM old WHERE c.call_id = old.call_id
        -- nothing to write (the usual case once the call runs): no new row version
        AND (c.status = 'waiting' OR c.started_at IS NULL OR c.started_at > $2)
     RETURNING old.was = 'waiting' AS became_active`,
    [callId, at],
  );
  return rows[0]?.became_active ?? false;
}
